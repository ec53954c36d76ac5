"""The application layer: the analysis behind the report (:mod:`.analysis`), its rendering
(:mod:`.render`) and figures (:mod:`.plots`)."""
