"""Renderer families on one engine.

A family (one folder here: `edn/`, `d2g/`, `pose2img/`, later `gfla/`, `mraa/`) provides three
modules:
- `family.py`: its declaration (`renderers.family.Family`, no torch): name, scope (one
  subject's renderer, or one model learnt from a dataset of subjects), and the parts of the
  dataset folder it reads for given settings (so the workflow wires exactly those files);
- `model.py`: the networks in one readable file, its presets, `geometry(settings)` and
  `spec(settings, data)` (every model-defining setting, stored in each checkpoint),
  `extras(data, n_train, settings)` (what the model file keeps beside the weights: pose2img's
  source frame, edn's plate) and the inference step `Animator(spec, weights, extras,
  device)`: `reset()`, `frame(Driving) -> BGR image`, `blank()`, and `VIEWS` / `views()`
  for extra panels of the comparison video;
- `train.py`: its training step `TrainStep(spec, settings, device)`: `dataset(data, n_train)`,
  `step(batch) -> (losses, sample picture)`, `state()`/`load()`, `weights()` (the inference
  networks' state dict) and `LOSSES`.

Everything else is shared and written once: `data.py` (the dataset folder at the model's size,
cached), `checkpoint.py` (the one format of model files and training checkpoints), `engine.py`
(device, bf16 and channels_last on CUDA, seeding, batching, resume, TensorBoard, progress,
sample grids), `inference.py` (a model rebuilt from its file alone), `render.py`,
`evaluate.py`, `metrics.py`, `baselines.py` and `qa.py`. Inference (render, evaluate) imports
the family's `model.py` and `checkpoint.py`, never the engine or a `train.py`.

Adding a family: its folder, one line in `families.py` (declaration), one in `inference.py`
(model) and one in `engine.py` (training step), and its `families.<name>` section in
workflow/schemas/config.schema.yaml.
"""
