using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OpenSpe.Contracts;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>
/// The state of each configured witness against the newest signed checkpoint (<c>GET /api/v1/audit/witnesses</c>), so that an
/// auditor sees whether the copies that make truncation or rewriting detectable are being kept, and whether one contradicts
/// the log.
/// </summary>
internal static class AuditWitnessReport
{
    /// <summary>Answers the witnesses' states.</summary>
    public static async Task<Ok<AuditWitnessesView>> GetAsync(
        AuditCheckpointLedger ledger, AuditStore store, AuditSigningKey key, AuditWitnessPublisher publisher, IOptions<AuditOptions> options,
        CancellationToken cancellationToken)
    {
        var latest = await AuditEndpoints.ReadLatestCheckpointAsync(ledger, store, key, cancellationToken);
        return TypedResults.Ok(Build(options.Value.Witnesses, publisher, key, latest));
    }

    /// <summary>Every witness of <paramref name="options"/>, files first, judged against <paramref name="latest"/> and <paramref name="key"/>.</summary>
    public static AuditWitnessesView Build(AuditWitnessOptions options, AuditWitnessPublisher publisher, AuditSigningKey key, AuditCheckpointDocument? latest)
    {
        var witnesses = new List<AuditWitnessView>();
        foreach (var file in options.Files)
        {
            witnesses.Add(FileWitness(file, publisher.State(file), key, latest));
        }

        foreach (var endpoint in options.Endpoints)
        {
            var push = publisher.State(endpoint.Url);
            // Note: without the query, which may hold a credential; what an endpoint holds is known only from what it answered this server.
            witnesses.Add(Judge("endpoint", new Uri(endpoint.Url).GetLeftPart(UriPartial.Path), push.Accepted, push.AcceptedAt, push, key, latest));
        }

        return new AuditWitnessesView(latest?.Sequence, latest?.Timestamp, witnesses);
    }

    private static AuditWitnessView FileWitness(string path, AuditWitnessPushState push, AuditSigningKey key, AuditCheckpointDocument? latest)
    {
        AuditCheckpointDocument? held;
        try
        {
            held = AuditWitnessFile.Last(path);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            return new AuditWitnessView("file", path, AuditWitnessStates.Unreadable, null, null, null, null, push.FailedAt,
                ex is FormatException ? "the file is not a witness file" : "the file cannot be read (" + ex.GetType().Name + ")");
        }

        // Note: the file, not this process's memory, says what it holds and since when, so the state survives a restart.
        var written = held is null ? (DateTimeOffset?)null : new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        return Judge("file", path, held, written, push, key, latest);
    }

    private static AuditWitnessView Judge(
        string kind, string name, AuditCheckpointDocument? held, DateTimeOffset? acceptedAt, AuditWitnessPushState push, AuditSigningKey key,
        AuditCheckpointDocument? latest)
    {
        // Note: a checkpoint the server's key did not sign means the witness's copy was altered (or is another server's), which
        // an auditor must tell apart from a log that contradicts a genuine checkpoint.
        var contradiction = held is null ? null
            : !key.Verify(held.ToCheckpoint()) ? $"the checkpoint it holds at sequence {held.Sequence} is not signed by this server's key {key.KeyId}: the witness was altered or belongs to another server"
            : latest is null ? null
            : AuditWitnessHistory.Decide(held, latest, out _);
        if (held is not null && contradiction is not null)
        {
            return new AuditWitnessView(kind, name, AuditWitnessStates.Disagrees, held.Sequence, held.Hash, acceptedAt, null, push.FailedAt, contradiction);
        }

        long? behind = held is not null && latest is not null ? latest.Sequence - held.Sequence : null;
        var state = push.Failing ? AuditWitnessStates.Failing
            : held is null ? AuditWitnessStates.Empty
            : behind is null or 0 ? AuditWitnessStates.Current
            : AuditWitnessStates.Behind;
        return new AuditWitnessView(kind, name, state, held?.Sequence, held?.Hash, acceptedAt, behind, push.FailedAt, push.Failure);
    }
}
