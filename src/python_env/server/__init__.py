"""The python_env server (FastAPI app built by OpenEnv's create_app)."""
