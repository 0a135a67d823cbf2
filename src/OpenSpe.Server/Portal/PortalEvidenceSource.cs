using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OpenSpe.Compliance;

namespace OpenSpe.Server.Portal;

/// <summary>
/// The compliance report's evidence read through the portal's backchannel with the signed-in person's token: the same API
/// reads as <c>spe compliance report --server</c> makes, so the portal's report holds exactly what the CLI's would.
/// </summary>
internal sealed class PortalEvidenceSource(PortalBackchannel backchannel, HttpContext context, string accessToken) : IEvidenceSource
{
    /// <inheritdoc />
    public async Task<EvidenceAnswer> GetAsync(string path, CancellationToken cancellationToken)
    {
        var (status, body) = await backchannel.GetTextAsync(context, accessToken, path);
        if (status is >= 200 and < 300)
        {
            return new(status, body, null);
        }

        JsonElement problem;
        try
        {
            problem = body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            problem = default;
        }

        return new(status, "", ApiProblem.From(status, problem).Sentence());
    }
}
