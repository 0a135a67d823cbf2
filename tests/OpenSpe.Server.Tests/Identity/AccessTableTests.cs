using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// Who may call what, written by hand from docs/separation-of-duties.md and docs/architecture.md (the project gate),
/// not read from the endpoints' metadata: one row per endpoint, one column per principal, every cell probed through
/// the real pipeline with real sign-ins against a real project (see <see cref="AccessTableFixture"/>). The
/// metadata-derived <see cref="AuthorizationMatrixTests"/> stays as the second check.
/// </summary>
/// <remarks>
/// Cells: <c>A</c> allowed (any answer but 401, 403, 404, 423: probes send <c>{}</c>, so 400 is common);
/// <c>P</c> allowed where the route names a placeholder that does not exist (any answer but 401, 403, 423);
/// <c>U</c> unauthenticated (401); <c>F</c> forbidden (403); <c>H</c> hidden (404, as for a project that does not exist);
/// <c>L</c> halted (423); <c>E</c> permit not in force (403 with code SPE3002; for HEAD, which has no body, any 403).
/// Route parameters: <c>{projectId}</c> and a permit's <c>{id}</c> name the column's real project and permit; HEAD and
/// PATCH of <c>{uploadId}</c> name the first holder's real unfinished upload; everything else (and DELETE of an upload)
/// names a placeholder, so no probe can destroy the fixture. POSTs to real permits cannot change them either: suspend
/// and revoke need a reason, an amendment a document, and resuming an active permit is a conflict.
/// </remarks>
public sealed class AccessTableTests(AccessTableFixture fixture) : IClassFixture<AccessTableFixture>
{
    private const string Placeholder = "no-such-thing";

    /// <summary>
    /// Columns: anon = no token; pwd = password-only sign-in (holds every role, no second factor); hdab … adm = an account
    /// holding that one role, named in no permit; mres = researcher named in the permit; mhold = holder of one dataset in
    /// it; app = application the permit names; xapp = an application it does not name; halt = a member researcher of a
    /// halted project; exp = a member researcher of a project whose permit has expired.
    /// </summary>
    private static readonly string[] Columns = ["anon", "pwd", "hdab", "chk", "hold", "res", "op", "aud", "adm", "mres", "mhold", "app", "xapp", "halt", "exp"];

    private static readonly (string Route, string Cells)[] Table =
    [
        // route                                                        an pw hd ch ho re op au ad mr mh ap xa ha ex
        // Account: whoami for any bearer; enrolment for persons (a password-only sign-in too); the rest for persons with a second factor.
        ("GET /api/v1/account",                                         "U  A  A  A  A  A  A  A  A  A  A  A  A  A  A"),
        ("POST /api/v1/account/totp",                                   "U  A  A  A  A  A  A  A  A  A  A  F  F  A  A"),
        ("POST /api/v1/account/totp/confirm",                           "U  A  A  A  A  A  A  A  A  A  A  F  F  A  A"),
        ("POST /api/v1/account/activate",                               "A  A  A  A  A  A  A  A  A  A  A  A  A  A  A"),
        ("POST /api/v1/account/password",                               "U  F  A  A  A  A  A  A  A  A  A  F  F  A  A"),
        // Note: ending sessions revokes refresh tokens only; the probes' access tokens keep working, so these rows cannot break the fixture.
        ("GET /api/v1/account/sessions",                                "U  F  A  A  A  A  A  A  A  A  A  F  F  A  A"),
        ("DELETE /api/v1/account/sessions/{id}",                        "U  F  P  P  P  P  P  P  P  P  P  F  F  P  P"),
        ("POST /api/v1/account/sessions/end-others",                    "U  F  A  A  A  A  A  A  A  A  A  F  F  A  A"),

        // Admin: creates accounts, grants and revokes roles, registers applications — admin only.
        ("GET /api/v1/admin/users",                                     "U  F  F  F  F  F  F  F  A  F  F  F  F  F  F"),
        ("POST /api/v1/admin/users",                                    "U  F  F  F  F  F  F  F  A  F  F  F  F  F  F"),
        ("POST /api/v1/admin/users/{username}/enrolment",               "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("POST /api/v1/admin/users/{username}/disable",                 "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("POST /api/v1/admin/users/{username}/enable",                  "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("POST /api/v1/admin/users/{username}/reset-mfa",               "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("PUT /api/v1/admin/users/{username}/roles/{role}",             "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("DELETE /api/v1/admin/users/{username}/roles/{role}",          "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("POST /api/v1/admin/users/{username}/external-identities",     "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("DELETE /api/v1/admin/users/{username}/external-identities",   "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("GET /api/v1/admin/role-grants",                               "U  F  F  F  F  F  F  F  A  F  F  F  F  F  F"),
        ("POST /api/v1/admin/role-grants/{id}/approve",                 "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),
        ("POST /api/v1/admin/clients",                                  "U  F  F  F  F  F  F  F  A  F  F  F  F  F  F"),
        ("GET /api/v1/admin/clients",                                   "U  F  F  F  F  F  F  F  A  F  F  F  F  F  F"),
        ("DELETE /api/v1/admin/clients/{clientId}",                     "U  F  F  F  F  F  F  F  P  F  F  F  F  F  F"),

        // Server information: any person with a second factor, any application.
        ("GET /api/v1/server/info",                                     "U  F  A  A  A  A  A  A  A  A  A  A  A  A  A"),

        // Permits: the HDAB issues and changes them and reads all; operator and auditor read metadata; researchers and holders
        // read the permits that name them (another permit is 404); visas only for the HDAB and the data user named.
        ("POST /api/v1/permits",                                        "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),
        ("GET /api/v1/permits",                                         "U  F  A  F  A  A  A  A  F  A  A  F  F  A  A"),
        ("GET /api/v1/permits/{id}",                                    "U  F  A  F  H  H  A  A  F  A  A  F  F  A  A"),
        ("GET /api/v1/permits/{id}/versions",                           "U  F  A  F  H  H  A  A  F  A  A  F  F  A  A"),
        ("GET /api/v1/permits/{id}/document",                           "U  F  A  F  H  H  A  A  F  A  A  F  F  A  A"),
        ("GET /api/v1/permits/{id}/visas",                              "U  F  A  F  F  H  F  F  F  A  F  F  F  A  A"),
        // The privacy budgets spent (FCR-9): the HDAB only.
        ("GET /api/v1/permits/privacy",                                 "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),
        ("GET /api/v1/permits/{id}/privacy",                            "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/permits/{id}/amendments",                        "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/permits/{id}/suspend",                           "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/permits/{id}/resume",                            "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/permits/{id}/revoke",                            "U  F  A  F  F  F  F  F  F  F  F  F  F  F  F"),

        // Halts: operator and HDAB. Resuming with {} names the global halt, of which there is none (404).
        ("POST /api/v1/halts",                                          "U  F  A  F  F  F  A  F  F  F  F  F  F  F  F"),
        ("GET /api/v1/halts",                                           "U  F  A  F  F  F  A  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/halts/resume",                                   "U  F  P  F  F  F  P  F  F  F  F  F  F  F  F"),

        // Backups: the evidence of scheduled backups and recorded drills for operators and auditors; only operators record a drill.
        ("GET /api/v1/operations/backups",                              "U  F  F  F  F  F  A  A  F  F  F  F  F  F  F"),
        ("POST /api/v1/operations/backups/drills",                      "U  F  F  F  F  F  A  F  F  F  F  F  F  F  F"),

        // Incidents (OPR-18): operators record; auditors and HDAB officers read; nobody else sees any.
        ("POST /api/v1/incidents",                                      "U  F  F  F  F  F  A  F  F  F  F  F  F  F  F"),
        ("GET /api/v1/incidents",                                       "U  F  A  F  F  F  A  A  F  F  F  F  F  F  F"),
        ("GET /api/v1/incidents/{id}",                                  "U  F  P  F  F  F  P  P  F  F  F  F  F  F  F"),
        ("POST /api/v1/incidents/{id}/updates",                         "U  F  F  F  F  F  P  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/incidents/{id}/notifications",                   "U  F  F  F  F  F  P  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/incidents/{id}/halt",                            "U  F  F  F  F  F  P  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/incidents/{id}/close",                           "U  F  F  F  F  F  P  F  F  F  F  F  F  F  F"),
        // Alerts: operators list, acknowledge and open an incident from one; auditors read; nobody else.
        ("GET /api/v1/alerts",                                          "U  F  F  F  F  F  A  A  F  F  F  F  F  F  F"),
        ("GET /api/v1/alerts/rules",                                    "U  F  F  F  F  F  A  A  F  F  F  F  F  F  F"),
        ("POST /api/v1/alerts/{id}/acknowledge",                        "U  F  F  F  F  F  P  F  F  F  F  F  F  F  F"),
        ("POST /api/v1/alerts/{id}/incident",                           "U  F  F  F  F  F  P  F  F  F  F  F  F  F  F"),

        // Training (OPR-23): recorded by HDAB officers and admins, read by them and auditors. Components: operators, auditors and
        // HDAB officers (who copy the federated runner's identity into permits). Certificates: operators and auditors.
        ("POST /api/v1/training",                                       "U  F  A  F  F  F  F  F  A  F  F  F  F  F  F"),
        ("GET /api/v1/training",                                        "U  F  A  F  F  F  F  A  A  F  F  F  F  F  F"),
        ("GET /api/v1/operations/components",                           "U  F  A  F  F  F  A  A  F  F  F  F  F  F  F"),
        ("GET /api/v1/operations/certificates",                         "U  F  F  F  F  F  A  A  F  F  F  F  F  F  F"),

        // Projects: the list (filtered) for any person with a second factor or application; a project only for the people
        // and applications its permit names (others 404), project metadata also for oversight (hdab, operator, auditor);
        // a halted project 423 for everyone; an expired permit 403; admin never (SDR-2).
        ("GET /api/v1/projects",                                        "U  F  A  A  A  A  A  A  A  A  A  A  A  A  A"),
        ("GET /api/v1/projects/{projectId}",                            "U  F  A  H  H  H  A  A  H  A  A  A  H  L  E"),
        ("GET /api/v1/projects/{projectId}/datasets",                   "U  F  H  H  H  H  H  H  H  A  A  A  H  L  E"),
        ("GET /api/v1/projects/{projectId}/public-key",                 "U  F  H  H  H  H  H  H  H  A  A  A  H  L  E"),
        ("GET /api/v1/projects/{projectId}/files",                      "U  F  H  H  H  H  H  H  H  A  A  A  H  L  E"),

        // Uploads: the holders the permit names, nobody else — not its researchers, not its applications (403 for them).
        ("OPTIONS /api/v1/projects/{projectId}/uploads",                "U  F  H  H  H  H  H  H  H  F  A  F  H  L  E"),
        ("POST /api/v1/projects/{projectId}/uploads",                   "U  F  H  H  H  H  H  H  H  F  A  F  H  L  E"),
        ("POST /api/v1/projects/{projectId}/uploads/admission",         "U  F  H  H  H  H  H  H  H  F  A  F  H  L  E"),
        ("POST /api/v1/projects/{projectId}/uploads/tickets",           "U  F  H  H  H  H  H  H  H  F  A  F  F  L  E"),
        ("HEAD /api/v1/projects/{projectId}/uploads/{uploadId}",        "U  F  H  H  H  H  H  H  H  F  A  F  H  L  E"),
        ("PATCH /api/v1/projects/{projectId}/uploads/{uploadId}",       "U  F  H  H  H  H  H  H  H  F  A  F  H  L  E"),
        ("DELETE /api/v1/projects/{projectId}/uploads/{uploadId}",      "U  F  H  H  H  H  H  H  H  F  P  F  H  L  E"),

        // Dataset files: only the holder of the dataset deletes; the placeholder dataset is none the holder holds, so the
        // dataset-holder step refuses it (403) — the allowed path is in UploadCli/DatasetFileCliTests.
        ("DELETE /api/v1/projects/{projectId}/datasets/{datasetId}/files/{fileId}", "U  F  H  H  H  H  H  H  H  F  F  F  H  L  E"),

        // Jobs: the permit's researchers only — not its holders (403), not applications (the default policy: a person with a
        // second factor, 403), and no oversight role, since a job's output is project data (hidden, 404).
        ("POST /api/v1/projects/{projectId}/jobs",                      "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/jobs",                       "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/jobs/{jobId}",               "U  F  H  H  H  H  H  H  H  P  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/jobs/{jobId}/logs",          "U  F  H  H  H  H  H  H  H  P  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/jobs/{jobId}/cancel",       "U  F  H  H  H  H  H  H  H  P  F  F  F  L  E"),

        // Desktop: the permit's researchers only, like jobs (the screen shows project data). Without a WebSocket upgrade the
        // member gets 400 (SPE6104), and a ticket request without the terms 400. CONNECT, HTTP/2's form of the same upgrade
        // (RFC 8441), is the same endpoint and handler as GET and is left out of the listing below.
        ("GET /api/v1/projects/{projectId}/desktop/terms",              "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/desktop/tickets",           "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/desktop",                    "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),

        // Airlock (EHDSR-12, EHDSR-13, SPER-3): the permit's researchers ask for exports and download released files (holders 403);
        // output checkers named in no role of the permit (chk) read and review requests; members never review (403, even a
        // researcher who also holds output-checker); oversight roles get nothing of a project's requests (404). Imports also
        // for the permit's holders. A halted project is 423 and an expired permit 403 for everyone, reviewers included.
        ("GET /api/v1/projects/{projectId}/outputs",                    "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/exports",                   "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/exports",                    "U  F  H  A  H  H  H  H  H  A  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/exports/{requestId}",        "U  F  H  P  H  H  H  H  H  P  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/exports/{requestId}/reviews", "U  F  H  P  H  H  H  H  H  F  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/exports/{requestId}/files/{name}", "U  F  H  H  H  H  H  H  H  P  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/exports/{requestId}/files/{name}/preview", "U  F  H  P  H  H  H  H  H  F  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/exports/{requestId}/files/{name}/image", "U  F  H  P  H  H  H  H  H  F  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/imports",                   "U  F  H  H  H  H  H  H  H  A  A  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/imports",                    "U  F  H  A  H  H  H  H  H  A  A  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/imports/{requestId}",        "U  F  H  P  H  H  H  H  H  P  P  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/imports/{requestId}/reviews", "U  F  H  P  H  H  H  H  H  F  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/imports/{requestId}/placement", "U  F  H  H  H  H  H  H  H  P  P  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/imports/{requestId}/files/{name}/preview", "U  F  H  P  H  H  H  H  H  F  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/imports/{requestId}/files/{name}/image", "U  F  H  P  H  H  H  H  H  F  F  F  F  L  E"),
        // Every export's metadata and decisions: HDAB officers (EHDSR-13) and output checkers (their queue); nobody else.
        ("GET /api/v1/exports",                                         "U  F  A  A  F  F  F  F  F  F  F  F  F  F  F"),
        // Every import's metadata and decisions: output checkers only (their queue); HDAB officers get no imports anywhere.
        ("GET /api/v1/imports",                                         "U  F  F  A  F  F  F  F  F  F  F  F  F  F  F"),
        // Terminal: the same as the desktop (the terminal shows project data), with its own workspace kind and codes (SPE6204 without an upgrade).
        ("GET /api/v1/projects/{projectId}/terminal/terms",             "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("POST /api/v1/projects/{projectId}/terminal/tickets",          "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),
        ("GET /api/v1/projects/{projectId}/terminal",                   "U  F  H  H  H  H  H  H  H  A  F  F  F  L  E"),

        // Audit: the auditor reads and verifies; the operator purges past retention; the public key is public.
        ("GET /api/v1/audit/records",                                   "U  F  F  F  F  F  F  A  F  F  F  F  F  F  F"),
        ("GET /api/v1/audit/verify",                                    "U  F  F  F  F  F  F  A  F  F  F  F  F  F  F"),
        // The newest signed checkpoint, for witnesses: auditors (404 before the first checkpoint, hence P).
        ("GET /api/v1/audit/checkpoints/latest",                        "U  F  F  F  F  F  F  P  F  F  F  F  F  F  F"),
        ("GET /api/v1/audit/checkpoints",                               "U  F  F  F  F  F  F  A  F  F  F  F  F  F  F"),
        // The last recorded verification: auditors (404 before the first verification, hence P).
        ("GET /api/v1/audit/verifications/latest",                      "U  F  F  F  F  F  F  P  F  F  F  F  F  F  F"),
        ("GET /api/v1/audit/witnesses",                                 "U  F  F  F  F  F  F  A  F  F  F  F  F  F  F"),
        ("GET /api/v1/audit/export",                                    "U  F  F  F  F  F  F  A  F  F  F  F  F  F  F"),
        ("GET /api/v1/audit/public-key",                                "A  A  A  A  A  A  A  A  A  A  A  A  A  A  A"),
        ("POST /api/v1/audit/purge",                                    "U  F  F  F  F  F  A  F  F  F  F  F  F  F  F"),
    ];

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-1")]
    public async Task Every_endpoint_answers_every_principal_as_the_table_says()
    {
        var failures = new List<string>();
        foreach (var (route, cells) in Table)
        {
            var expected = cells.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(expected.Length == Columns.Length, $"row '{route}' has {expected.Length} cells, not {Columns.Length}");
            for (var i = 0; i < Columns.Length; i++)
            {
                var principal = fixture.Principals[Columns[i]];
                var (method, path) = Resolve(route, principal);
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                using var response = await principal.Client.SendAsync(request);
                var body = method == "HEAD" ? "" : await response.Content.ReadAsStringAsync();
                if (!Matches(expected[i], response.StatusCode, method == "HEAD" ? null : body))
                {
                    failures.Add($"{method} {path} as {Columns[i]}: expected {expected[i]}, got {(int)response.StatusCode} {Shorten(body)}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} cells differ from the table:\n" + string.Join("\n", failures));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    public void Every_api_endpoint_has_a_row_and_every_row_an_endpoint()
    {
        var endpoints = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in fixture.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var raw = endpoint.RoutePattern.RawText!;
            if (raw.StartsWith("/api/", StringComparison.Ordinal))
            {
                foreach (var method in (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Where(m => m != "CONNECT"))
                {
                    endpoints.Add($"{method} {raw.TrimEnd('/')}");
                }
            }
        }

        var rows = Table.Select(r => r.Route).ToList();

        Assert.Empty(rows.GroupBy(r => r, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => "row twice: " + g.Key));
        Assert.Empty(endpoints.Except(rows).Select(e => "no row for: " + e));
        Assert.Empty(rows.Except(endpoints).Select(r => "row for an endpoint that no longer exists: " + r));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "OPR-1")]
    public async Task A_holder_sees_only_the_files_of_the_datasets_they_hold()
    {
        using var holder2 = await fixture.ClientForAsync("holder2");
        var path = $"/api/v1/projects/{fixture.ProjectId}/files";

        var ofHolder = await DatasetsOfFilesAsync(fixture.Principals["mhold"].Client, path);
        var ofHolder2 = await DatasetsOfFilesAsync(holder2, path);
        var ofResearcher = await DatasetsOfFilesAsync(fixture.Principals["mres"].Client, path);
        var ofApplication = await DatasetsOfFilesAsync(fixture.Principals["app"].Client, path);

        Assert.Empty(ofHolder);
        Assert.Equal([AccessTableFixture.Holder2Dataset], ofHolder2);
        Assert.Equal([AccessTableFixture.Holder2Dataset], ofResearcher);
        Assert.Equal([AccessTableFixture.Holder2Dataset], ofApplication);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "SDR-2")]
    public async Task Oversight_sees_a_halted_projects_metadata_marked_halted_and_its_members_get_423()
    {
        var show = $"/api/v1/projects/{fixture.HaltedProjectId}";
        var member = fixture.Principals["halt"].Client;

        foreach (var column in new[] { "hdab", "op", "aud" })
        {
            var client = fixture.Principals[column].Client;
            var project = await client.GetFromJsonAsync<JsonElement>(show);
            var listed = (await client.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray()
                .Single(p => p.GetProperty("id").GetString() == fixture.HaltedProjectId);
            var running = (await client.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray()
                .Single(p => p.GetProperty("id").GetString() == fixture.ProjectId);

            Assert.True(project.GetProperty("halted").GetBoolean(), column);
            Assert.Equal(fixture.HaltedPermitId, project.GetProperty("permitId").GetString());
            Assert.True(listed.GetProperty("halted").GetBoolean(), column);
            Assert.False(running.GetProperty("halted").GetBoolean(), column);
            // Metadata only: the data routes of the halted project stay hidden from oversight.
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(show + "/datasets")).StatusCode);
        }

        var memberList = (await member.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray()
            .Single(p => p.GetProperty("id").GetString() == fixture.HaltedProjectId);
        Assert.True(memberList.GetProperty("halted").GetBoolean());
        await Api.ProblemAssert.IsProblemAsync(await member.GetAsync(show), HttpStatusCode.Locked);
        await Api.ProblemAssert.IsProblemAsync(await member.GetAsync(show + "/datasets"), HttpStatusCode.Locked);
    }

    private static async Task<List<string>> DatasetsOfFilesAsync(HttpClient client, string path) =>
        (await client.GetFromJsonAsync<JsonElement>(path)).EnumerateArray().Select(f => f.GetProperty("dataset").GetString()!).ToList();

    private (string Method, string Path) Resolve(string route, Principal principal)
    {
        var method = route[..route.IndexOf(' ', StringComparison.Ordinal)];
        var template = route[(method.Length + 1)..];
        var isPermit = template.StartsWith("/api/v1/permits/", StringComparison.Ordinal);
        var path = string.Join('/', template.Split('/').Select(segment => segment switch
        {
            "{projectId}" => principal.ProjectId,
            "{id}" when isPermit => principal.PermitId,
            // Note: DELETE of an upload gets a placeholder because a real one would end the fixture's upload.
            "{uploadId}" when method is "HEAD" or "PATCH" => fixture.UploadId,
            _ when segment.StartsWith('{') => Placeholder,
            _ => segment,
        }));
        return (method, path);
    }

    /// <summary>Whether an answer fits a cell; a HEAD answer has no body (<paramref name="body"/> null), so its <c>E</c> is any 403.</summary>
    private static bool Matches(string cell, HttpStatusCode status, string? body) => cell switch
    {
        "A" => status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Locked),
        "P" => status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.Locked),
        "U" => status == HttpStatusCode.Unauthorized,
        "F" => status == HttpStatusCode.Forbidden,
        "H" => status == HttpStatusCode.NotFound,
        "L" => status == HttpStatusCode.Locked,
        "E" => status == HttpStatusCode.Forbidden && (body is null || body.Contains(ErrorCodes.PermitNotActive, StringComparison.Ordinal)),
        _ => throw new InvalidOperationException($"unknown cell '{cell}'"),
    };

    private static string Shorten(string body) => body.Length <= 160 ? body : body[..160] + "…";
}
