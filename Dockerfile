# The whole pose_animate environment from the package registries (PyPI), for `--sdm apptainer`
# on clusters and for the Kubernetes profile's pods:
#   docker build -t pose_animate:0.2.0 .                                   # CPU torch
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 \
#       -t pose_animate:0.2.0-cuda .                                       # a CUDA build
# The ffmpeg binary comes with imageio-ffmpeg; mediapipe brings the project's OpenCV.
FROM python:3.11-slim

ARG TORCH=torch==2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

# libgl/libglib: mediapipe's OpenCV; git: Snakemake's source-cache of the workflow.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/pose_animate
COPY . /opt/pose_animate
# torch first, from the chosen index, so that the package's bare torch requirement is met
# (a plain `pip install` would pull the default CUDA build). Editable: the library reads the
# workflow's schemas beside it.
RUN python -m pip install --no-cache-dir --upgrade pip \
    && python -m pip install --no-cache-dir --index-url "${TORCH_INDEX}" "${TORCH}" \
    && python -m pip install --no-cache-dir -e /opt/pose_animate \
    && pose_animate --version

ENV POSE_ANIMATE_WORKFLOW=/opt/pose_animate
WORKDIR /work
CMD ["snakemake", "--snakefile", "/opt/pose_animate/Snakefile", "--cores", "all"]
