"""rollgen: compiles rollout specs into the Kubernetes manifests of a progressive delivery."""

__version__ = "0.4.0"
