using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>A minimal tus 1.0.0 client written from the protocol, for driving the server in tests.</summary>
public sealed class TusClient(HttpClient http, string projectId)
{
    public string Collection => $"/api/v1/projects/{projectId}/uploads";

    public async Task<Crypt4ghPublicKey> ProjectKeyAsync()
    {
        // Note: a refusal names the server's problem (its code and detail), so that a 503 in a loaded CI run says which one.
        using var response = await http.GetAsync($"/api/v1/projects/{projectId}/public-key");
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET public-key answered {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }

        var view = JsonSerializer.Deserialize<JsonElement>(body);
        return Crypt4ghPublicKey.Parse(view.GetProperty("publicKey").GetString()!);
    }

    public static byte[] Encrypt(byte[] plaintext, Crypt4ghPublicKey recipient)
    {
        using var output = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(plaintext), output, [recipient]);
        return output.ToArray();
    }

    public static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public async Task<HttpResponseMessage> CreateAsync(long length, string dataset, string filename, string plaintextSha256, byte[]? firstChunk = null, bool tusHeader = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Collection);
        if (tusHeader)
        {
            request.Headers.Add("Tus-Resumable", "1.0.0");
        }

        request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Metadata", $"dataset {B64(dataset)},filename {B64(filename)},plaintextSha256 {B64(plaintextSha256)}");
        if (firstChunk is not null)
        {
            request.Content = Octets(firstChunk);
        }

        return await http.SendAsync(request);
    }

    /// <summary>POST to the collection with Tus-Resumable and whatever <paramref name="configure"/> adds.</summary>
    public async Task<HttpResponseMessage> SendCreateAsync(Action<HttpRequestMessage> configure)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Collection);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        configure(request);
        return await http.SendAsync(request);
    }

    /// <summary>A final upload (concatenation) of <paramref name="partials"/> with the full metadata; an empty hash is left out.</summary>
    public Task<HttpResponseMessage> CreateFinalAsync(IEnumerable<string> partials, string dataset, string filename, string plaintextSha256, long? length = null) =>
        SendCreateAsync(request =>
        {
            request.Headers.Add("Upload-Concat", "final;" + string.Join(' ', partials));
            request.Headers.Add("Upload-Metadata", plaintextSha256.Length == 0
                ? Metadata(("dataset", dataset), ("filename", filename))
                : Metadata(("dataset", dataset), ("filename", filename), ("plaintextSha256", plaintextSha256)));
            if (length is { } l)
            {
                request.Headers.Add("Upload-Length", l.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        });

    /// <summary>An Upload-Metadata value.</summary>
    public static string Metadata(params (string Key, string Value)[] pairs) => string.Join(',', pairs.Select(p => $"{p.Key} {B64(p.Value)}"));

    public async Task<HttpResponseMessage> PatchAsync(string location, long offset, byte[] chunk, string? checksum = "sha256", string contentType = "application/offset+octet-stream")
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, location);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (checksum == "sha256")
        {
            request.Headers.Add("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData(chunk)));
        }
        else if (checksum is not null)
        {
            request.Headers.Add("Upload-Checksum", checksum);
        }

        request.Content = new ByteArrayContent(chunk);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await http.SendAsync(request);
    }

    public async Task<long> OffsetAsync(string location)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, location);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return long.Parse(response.Headers.GetValues("Upload-Offset").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Creates and sends the whole file in chunks; returns the last response.</summary>
    public async Task<(string Location, HttpResponseMessage Last)> UploadAsync(byte[] ciphertext, string dataset, string filename, string plaintextSha256, int chunk = 100_000)
    {
        var created = await CreateAsync(ciphertext.Length, dataset, filename, plaintextSha256);
        Assert.True(created.StatusCode == System.Net.HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var location = created.Headers.Location!.OriginalString;
        HttpResponseMessage last = created;
        for (var offset = 0; offset < ciphertext.Length; offset += chunk)
        {
            last = await PatchAsync(location, offset, ciphertext[offset..Math.Min(ciphertext.Length, offset + chunk)]);
            if (!last.IsSuccessStatusCode)
            {
                break;
            }
        }

        return (location, last);
    }

    private static ByteArrayContent Octets(byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return content;
    }

    private static string B64(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
}
