namespace OpenSpe.Core.Audit;

/// <summary>
/// A signed checkpoint that someone outside the database kept (a witness file, a cron job on
/// another machine): the log must still contain it exactly, with the same sequence and hash, and
/// the checkpoint itself must still be stored.
/// </summary>
/// <param name="Checkpoint">The checkpoint as the witness saved it.</param>
/// <param name="Witness">Where it was kept (e.g. the file and line), named in a failure.</param>
public sealed record AuditWitnessedCheckpoint(AuditCheckpoint Checkpoint, string Witness)
{
    /// <summary>"sequence 42 (hash 1a2b…)" for messages.</summary>
    public string Describe() => $"sequence {Checkpoint.Sequence} (hash {Convert.ToHexStringLower(Checkpoint.Hash)})";
}
