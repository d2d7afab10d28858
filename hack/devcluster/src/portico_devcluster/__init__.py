"""A local control plane (etcd + kube-apiserver, optionally more) for tests and the demo."""
