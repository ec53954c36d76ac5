"""Model files: reading and writing TOML models (:mod:`.model_file`), key locations (:mod:`.toml`)."""

from .model_file import ModelFileError, dumps, load_model, loads_model, model_from_dict, save_model, spec_from_data

__all__ = ["ModelFileError", "dumps", "load_model", "loads_model", "model_from_dict", "save_model", "spec_from_data"]
