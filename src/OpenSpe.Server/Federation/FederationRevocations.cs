using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Federation;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federation CA's revocation list as this node knows it: re-read when the file's time or size changes (checked at each
/// handshake, a stat), so <c>spe federation cert revoke</c> takes effect without a restart.
/// </summary>
/// <remarks>
/// Note: fail closed: a list that is missing, unreadable, not signed by the federation CA or past its next update makes
/// <see cref="Current"/> null, and every peer is refused, because a node that cannot tell who is revoked must not guess.
/// </remarks>
internal sealed class FederationRevocations(string path, X509Certificate2 authority, TimeProvider time, ILogger<FederationRevocations> logger)
{
    private readonly Lock _gate = new();
    private (DateTime Written, long Length) _stamp;
    private FederationCrl? _list;
    private string _problem = "not read yet";

    /// <summary>The current list, or null when none can be used (the reason is in <see cref="Problem"/>).</summary>
    public FederationCrl? Current()
    {
        lock (_gate)
        {
            Refresh();
            if (_list is { NextUpdate: { } next } && next < time.GetUtcNow())
            {
                _problem = "it is past its next update";
                return null;
            }

            return _list;
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
        var info = new FileInfo(path);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
        if (stamp == _stamp && (_list is not null || stamp.Item2 < 0))
        {
            return;
        }

        _stamp = stamp;
        try
        {
            var list = FederationCrl.Parse(File.ReadAllText(path), authority);
            if (_list is not null && list.Number < _list.Number)
            {
                // Note: an older list than the one in use is refused, because replaying an old list would un-revoke a peer.
                throw new CryptographicException($"its number {list.Number} is older than the list in use ({_list.Number})");
            }

            _list = list;
            _problem = "";
            FederationLog.CrlLoaded(logger, path, list.Number.ToString(CultureInfo.InvariantCulture), list.RevokedSerials.Count);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or FormatException)
        {
            _list = null;
            _problem = ex.Message;
            FederationLog.CrlUnusable(logger, path, ex.Message);
        }
    }
}
