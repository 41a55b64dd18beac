"""TransG's person-agnostic pretraining (the paper pretrains its pose-to-UV generator on many
people, then fine-tunes it on the subject): the d2g training step in its surface-only mode on
every train subject of a dataset (`families.d2g.transg_pretrain`)."""

from ..engine import train


def pretrain_transg(folders, model_path, run_dir, settings: dict, *, name: str,
                    threads: int | None = None) -> dict:
    """Train TransG on `folders` for `settings["transg_pretrain"]["steps"]` steps; the model
    file is a d2g model whose TransG a subject's run starts from."""
    pretraining = {**settings, "steps": settings["transg_pretrain"]["steps"],
                   "surface_only": True}
    return train("d2g", folders, model_path, run_dir, pretraining, name=name, threads=threads)
