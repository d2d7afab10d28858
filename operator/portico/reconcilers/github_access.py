"""The GitHub client in force: one per token and settings, shared by the steps that call
GitHub (scaffolding, Template updates, archiving), so they share its concurrency limit and
its rate-limit hold. A rotated token closes the old client."""

import hashlib

from portico.clients.github import GitHubClient
from portico.clients.kube import KubeClient
from portico.models.config import OperatorConfig
from portico.reconcilers.secrets import read_token


class GitHubAccess:
    def __init__(self, kube: KubeClient, config_namespace: str) -> None:
        self._kube = kube
        self.config_namespace = config_namespace
        self._client: tuple[str, GitHubClient] | None = None

    async def token(self, config: OperatorConfig) -> str | None:
        return await read_token(self._kube, self.config_namespace, config.github.token_secret)

    def client(self, token: str, config: OperatorConfig) -> GitHubClient:
        ident = hashlib.sha256(f"{config.github.api_url}|{config.github.throttle}|{token}".encode())
        key = ident.hexdigest()
        if self._client is None or self._client[0] != key:
            old = self._client
            self._client = (
                key,
                GitHubClient(token, config.github.api_url, throttle=config.github.throttle),
            )
            if old is not None:
                old[1].close()
        return self._client[1]

    def missing_token(self, config: OperatorConfig) -> str:
        return (
            f"Secret {self.config_namespace}/{config.github.token_secret} (key token) is "
            "missing: create it to publish to GitHub"
        )
