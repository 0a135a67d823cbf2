using OpenSpe.Cli.Client;
using OpenSpe.Compliance;

namespace OpenSpe.Cli.Compliance;

/// <summary>The compliance report's evidence read through the CLI's API client, as the person signed in with <c>spe login</c>.</summary>
internal sealed class ApiEvidenceSource(SpeApiClient api) : IEvidenceSource
{
    /// <inheritdoc />
    public async Task<EvidenceAnswer> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, null, cancellationToken);
            return new((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), null);
        }
        catch (ApiProblemException ex)
        {
            // Note: the client turns every refusal into this exception; the report says which refusal it was, in one line.
            return new((int)ex.Status, "", ProblemText.OneLine(ex.Message));
        }
    }
}
