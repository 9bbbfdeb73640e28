"""Training data and training for the offline music–text model: own MIDI + Freedoom/Blupi MIDI, rendered with
FluidSynth under random instrumentation/tempo/mix, augmented, captioned from exact attributes."""
