namespace OpenSpe.Server.Federation.Learning;

/// <summary>
/// Row of <c>privacy_ledger</c>: one reservation of zCDP loss (FCR-9) for a permit and a person, in ρ units
/// (<see cref="OpenSpe.Federation.Learning.RhoUnits"/>), open until committed or released.
/// </summary>
internal sealed class PrivacyLedgerEntryEntity
{
    /// <summary>The reservation's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Which book: <see cref="PrivacyLedgerBooks.Node"/> or <see cref="PrivacyLedgerBooks.Coordinator"/>.</summary>
    public string Book { get; set; } = "";

    /// <summary>The permit's reference (the same at every node, whichever local project holds it).</summary>
    public string Permit { get; set; } = "";

    /// <summary>The person whose request drew the noise, as the permit names them.</summary>
    public string Person { get; set; } = "";

    /// <summary>ρ units reserved.</summary>
    public long Units { get; set; }

    /// <summary>Whether the loss was spent (a noised value left); an open reservation counts as spent too.</summary>
    public bool Committed { get; set; }

    /// <summary>What the reservation was for (component and round), data-free.</summary>
    public string Purpose { get; set; } = "";

    /// <summary>When it was reserved (Unix microseconds).</summary>
    public long ReservedAtMicros { get; set; }
}

/// <summary>The two books a node keeps.</summary>
internal static class PrivacyLedgerBooks
{
    /// <summary>Loss on this node's own rows, charged by this node for every round it released (it never trusts a coordinator's accounting).</summary>
    public const string Node = "node";

    /// <summary>Loss of the analyses this node coordinated for its own users, charged before any node is asked.</summary>
    public const string Coordinator = "coordinator";
}
