"""``python -m python_env.server`` starts the server."""

from python_env.server.app import main

main()
