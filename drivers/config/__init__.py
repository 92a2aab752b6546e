"""Config formats shared by the controller and the simulator: loaders and pydantic models.

These define file formats only (like the register maps and frame codec), so firmware_sim may import
them without importing any client class.
"""

from drivers.config.loader import ConfigError, load_model, parse_model

__all__ = ["ConfigError", "load_model", "parse_model"]
