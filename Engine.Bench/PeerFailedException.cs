namespace Engine.Bench;

/// <summary>
/// The peer process a suite takes turns with (tools/bench/torch_baseline.py --serve) could not be started, stopped
/// answering, died or refused a case; the message names what failed and how to fix it.
/// </summary>
public sealed class PeerFailedException(string message) : Exception(message);
