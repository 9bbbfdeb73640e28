"""The model manager: which real models cuesteer can use, whether they are on this machine, fetching and
checking them (`cuesteer models list | pull NAME | verify [NAME]`).

`manifest` names the models (repo, files, size, licence); `cache` reads the Hugging Face cache exactly as
`huggingface_hub` lays it out; `checksums` verifies cached files; `pull` downloads with progress and resume;
`torch_hub` does the same for Demucs, whose weights live in torch's hub cache; `soundfont` finds a General-MIDI
soundfont at run time.
"""
