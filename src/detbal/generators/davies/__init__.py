"""Davies (weak-coupling, secular) generators: the generator (:mod:`.generator`), its Bohr sectors
(:mod:`.sectors`), their linear algebra (:mod:`.sector_linalg`) and evolution (:mod:`.sector_evolution`)."""

from .generator import DaviesGenerator, davies

__all__ = ["DaviesGenerator", "davies"]
