"""Configuration: the settings table read from the environment."""
