import MIDI
/// Ports: backend protocol and the JACK, ALSA and virtual backends.
public enum PortsModule {}
