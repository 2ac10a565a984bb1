"""The run core: one design run's settings, its deadline (:class:`~rnadesign.run.clock.Deadline`) and
its state (:class:`~rnadesign.run.state.DesignRun`), which every runner, the RL part and the search
are handed. Above the model, below everything that designs."""

__all__ = ["clock", "settings", "state"]
