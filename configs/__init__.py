"""The config files shipped with microweld (TOML; read through drivers.config.files)."""
