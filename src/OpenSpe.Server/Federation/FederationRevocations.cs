using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Federation;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federation CA's revocation list as this node knows it: re-read when the file's time or size changes (checked at each
/// handshake, a stat), so <c>spe federation cert revoke</c> takes effect without a restart; and the highest CRL number this node
/// has ever accepted from that CA, kept across an unusable read and, in <paramref name="statePath"/>, across restarts.
/// </summary>
/// <remarks>
/// Note: fail closed: a list that is missing, unreadable, not signed by the federation CA, past its next update, or numbered below
/// the highest this node accepted (a rolled-back list, which would un-revoke a peer) makes <see cref="Current"/> null, and every
/// peer is refused, because a node that cannot tell who is revoked must not guess.
/// </remarks>
/// <param name="path">The revocation list (PEM).</param>
/// <param name="authority">The federation CA, which must have signed it.</param>
/// <param name="time">The clock its next update is judged by.</param>
/// <param name="logger">Where loads and refusals are logged.</param>
/// <param name="statePath">
/// Where the highest accepted number is recorded (<see cref="StateFileName"/> in the data directory); null keeps it in memory only.
/// </param>
internal sealed class FederationRevocations(string path, X509Certificate2 authority, TimeProvider time, ILogger<FederationRevocations> logger, string? statePath = null)
{
    /// <summary>The file in the data directory that records the highest CRL number accepted, with the CA it was accepted from.</summary>
    public const string StateFileName = "federation-crl-number";

    private readonly Lock _gate = new();
    private readonly string _authority = authority.GetCertHashString(HashAlgorithmName.SHA256);
    private (DateTime Written, long Length) _stamp;
    private FederationCrl? _list;
    private string _problem = "not read yet";
    private string? _refusal = PeerRefusalReasons.RevocationUnknown;
    private BigInteger? _highest;
    private string? _stateProblem;
    private bool _stateRead;

    /// <summary>The current list, or null when none can be used (the reason is in <see cref="Problem"/>).</summary>
    public FederationCrl? Current() => Judge().List;

    /// <summary>
    /// The current list, or null with the reason a peer is refused for (<see cref="PeerRefusalReasons.RevocationUnknown"/>, or
    /// <see cref="PeerRefusalReasons.RevocationRolledBack"/> for a list older than one accepted before).
    /// </summary>
    public (FederationCrl? List, string? Refusal) Judge()
    {
        lock (_gate)
        {
            Refresh();
            if (_list is { NextUpdate: { } next } && next < time.GetUtcNow())
            {
                _problem = "it is past its next update";
                return (null, PeerRefusalReasons.RevocationUnknown);
            }

            return _list is null ? (null, _refusal ?? PeerRefusalReasons.RevocationUnknown) : (_list, null);
        }
    }

    /// <summary>Why <see cref="Current"/> is null.</summary>
    public string Problem
    {
        get
        {
            lock (_gate)
            {
                return _problem;
            }
        }
    }

    private void Refresh()
    {
        ReadState();
        var info = new FileInfo(path);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
        if (stamp == _stamp && (_list is not null || stamp.Item2 < 0))
        {
            return;
        }

        _stamp = stamp;
        try
        {
            if (_stateProblem is not null)
            {
                // Note: without the record this node cannot tell an old list from a current one, so it uses none until the operator
                // repairs or removes the file (removing it accepts the next list read as the first).
                throw new CryptographicException(_stateProblem);
            }

            var list = FederationCrl.Parse(File.ReadAllText(path), authority);
            if (_highest is { } highest && list.Number < highest)
            {
                // Note: compared with the highest number ever accepted, not with the list in use, because a failed read in between
                // (a truncated or garbage file) must not make an old list acceptable again, nor a restart.
                _list = null;
                _refusal = PeerRefusalReasons.RevocationRolledBack;
                _problem = $"its number {list.Number} is lower than {highest}, the highest this node has accepted (a rolled-back list)";
                FederationLog.CrlRolledBack(logger, path, list.Number.ToString(CultureInfo.InvariantCulture), highest.ToString(CultureInfo.InvariantCulture));
                return;
            }

            if (_highest is not { } known || list.Number > known)
            {
                // Note: recorded durably before the list is used, so no peer is judged by a list this node could forget it accepted.
                WriteState(list.Number);
                _highest = list.Number;
            }

            _list = list;
            _refusal = null;
            _problem = "";
            FederationLog.CrlLoaded(logger, path, list.Number.ToString(CultureInfo.InvariantCulture), list.RevokedSerials.Count);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or FormatException)
        {
            _list = null;
            _refusal = PeerRefusalReasons.RevocationUnknown;
            _problem = ex.Message;
            FederationLog.CrlUnusable(logger, path, ex.Message);
        }
    }

    /// <summary>Reads the recorded highest number once: absent is none yet; unreadable or malformed fails closed.</summary>
    private void ReadState()
    {
        // Note: a record that could not be read is read again at the next check, so an operator's repair (or removal) takes
        // effect without a restart; a record read once stays as read, because only this node writes it.
        if (statePath is null || (_stateRead && _stateProblem is null))
        {
            return;
        }

        _stateRead = true;
        _stateProblem = null;
        try
        {
            if (!File.Exists(statePath))
            {
                return;
            }

            var parts = File.ReadAllText(statePath).Trim().Split(' ');
            if (parts.Length != 2 || !BigInteger.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                _stateProblem = $"the record of the highest accepted revocation list number ({statePath}) is malformed";
                return;
            }

            // Note: the number is the CA's own sequence, so one recorded for another CA (a federation that replaced its CA) says
            // nothing about this one's lists, and this CA's first list is accepted as the first.
            if (string.Equals(parts[0], _authority, StringComparison.OrdinalIgnoreCase))
            {
                _highest = number;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _stateProblem = $"the record of the highest accepted revocation list number ({statePath}) cannot be read: {ex.GetType().Name}";
        }
    }

    private void WriteState(BigInteger number)
    {
        if (statePath is null)
        {
            return;
        }

        DurableFiles.WriteAllBytesAtomic(statePath, Encoding.ASCII.GetBytes($"{_authority} {number.ToString(CultureInfo.InvariantCulture)}\n"));
    }
}
