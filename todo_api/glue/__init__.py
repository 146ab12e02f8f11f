"""What both frontends share: the API built from settings, werkzeug mounting, key fetching."""
