"""Exports: a subject's or a dataset's cached stages in other codebases' own folder layouts.

One module per layout, each written from its consumer's loader code (named in its docstring):
`gfla`, `mraa`, `pose2img`, `pose_transfer`, `d2g` (the research seeds), `wan_animate`,
`animate_anyone`, `stable_animator` (today's animation trainers). `stage.export` runs one;
`source` reads the dataset folders, `files` links or writes what lands in the export.
"""
