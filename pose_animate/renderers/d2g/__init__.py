"""D2G-Net (Sun et al., TPAMI 2022): neural video rendering with dynamic details, on the dataset
folder it was made for. `family.py` declares it, `model.py` holds the networks and the
inference step, `train.py` the training step."""
