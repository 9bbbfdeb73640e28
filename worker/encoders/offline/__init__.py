"""`offline`: our own small music–text embedding, trained on MIDI renders with exact captions (issue 3).

An audio tower over log-mel statistics and tempo autocorrelation (a CNN is the option), and the frozen
all-MiniLM-L6-v2 sentence encoder with a learned projection, both into one 256-d space.
It is the default encoder when CLAP weights are absent.
"""
