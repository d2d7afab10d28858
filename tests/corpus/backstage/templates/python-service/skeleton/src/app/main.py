"""The ${{ values.name }} service."""

from fastapi import FastAPI

app = FastAPI(title="${{ values.name }}")
PORT = int("${{ values.port }}")
