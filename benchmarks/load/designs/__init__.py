"""Server designs for Flask that the `flask_servers` part measures beside the offered one;
none of them runs in production (todo_api.serve.servers builds what does)."""
