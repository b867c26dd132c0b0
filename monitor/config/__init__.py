"""Config: pydantic models, YAML loading with ${VAR} interpolation, and the engine's view of it."""
from .fleet import to_fleet
from .loader import ConfigError, load_config, parse_config
from .models import Config

__all__ = ["Config", "ConfigError", "load_config", "parse_config", "to_fleet"]
