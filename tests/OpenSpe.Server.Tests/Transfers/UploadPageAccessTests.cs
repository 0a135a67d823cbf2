using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Contracts;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// Who may use the upload page (its admission question and the tus upload it makes) and what the page route serves: only the
/// holder the permit names for the dataset; a researcher of the project, a non-member, a halted project, a disabled person and
/// malformed input are refused with a problem answer, and nothing is stored. The page itself holds nothing: it is served to
/// anyone, under its policy, and its library route serves only the installed scripts.
/// </summary>
public sealed class UploadPageAccessTests(UploadPageFixture f) : IClassFixture<UploadPageFixture>
{
    private static readonly object CsvUpload = new { dataset = "omop-2026", filename = "cohort.csv", length = 1000 };

    [Theory]
    [InlineData("holder", 204)]
    [InlineData("researcher", 403)]
    [InlineData("outsider", 404)]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "OPR-1")]
    public async Task Only_the_datasets_holder_is_admitted_and_nobody_else_stores_anything(string who, int status)
    {
        var (_, projectId) = await f.IssueAsync();
        if (who == "outsider")
        {
            await f.Server.EnsureAccountAsync("outsider", "data-holder");
        }

        using var client = await f.Server.ClientForAccountAsync(who);

        var admission = await client.PostAsJsonAsync($"/api/v1/projects/{projectId}/uploads/admission", CsvUpload, TestContext.Current.CancellationToken);
        var creation = await new TusClient(client, projectId).CreateAsync(1000, "omop-2026", "cohort.csv", new string('a', 64));

        Assert.Equal(status, (int)admission.StatusCode);
        if (status != 204)
        {
            await Api.ProblemAssert.IsProblemAsync(admission, (HttpStatusCode)status);
            Assert.Equal(status, (int)creation.StatusCode);
            Assert.Equal((0, 0), await f.StoredAsync(projectId));
        }
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "EHDSR-11")]
    public async Task A_halted_project_and_a_disabled_holder_are_refused_and_nothing_is_stored()
    {
        var (_, halted) = await f.IssueAsync();
        await f.Server.EnsureAccountAsync("holder-gone", "data-holder");
        var (_, disabledProject) = await f.IssueAsync("holder-gone");
        using var holder = await f.Server.ClientForAccountAsync("holder");
        using var gone = await f.Server.ClientForAccountAsync("holder-gone");
        Assert.Equal(HttpStatusCode.Created, (await f.Permits.PostAsAsync("operator", "/api/v1/halts", new { projectId = halted, reason = "upload page test" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await f.Permits.PostAsAsync("admin", "/api/v1/admin/users/holder-gone/disable", new { })).StatusCode);

        var haltedAdmission = await holder.PostAsJsonAsync($"/api/v1/projects/{halted}/uploads/admission", CsvUpload, TestContext.Current.CancellationToken);
        var haltedCreation = await new TusClient(holder, halted).CreateAsync(1000, "omop-2026", "cohort.csv", new string('a', 64));
        var goneAdmission = await gone.PostAsJsonAsync($"/api/v1/projects/{disabledProject}/uploads/admission", CsvUpload, TestContext.Current.CancellationToken);
        var goneCreation = await new TusClient(gone, disabledProject).CreateAsync(1000, "omop-2026", "cohort.csv", new string('a', 64));

        await Api.ProblemAssert.IsProblemAsync(haltedAdmission, HttpStatusCode.Locked);
        Assert.Equal(HttpStatusCode.Locked, haltedCreation.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, goneAdmission.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, goneCreation.StatusCode);
        Assert.Equal((0, 0), await f.StoredAsync(halted));
        Assert.Equal((0, 0), await f.StoredAsync(disabledProject));
    }

    [Theory]
    [InlineData("""{"dataset":"omop-2026","filename":"notes.txt","length":10}""", 403, "SPE")]
    [InlineData("""{"dataset":"omop-2026","filename":"../cohort.csv","length":10}""", 400, "filename")]
    [InlineData("""{"dataset":"","filename":"cohort.csv","length":10}""", 400, "dataset")]
    [InlineData("""{"dataset":"omop-2026","filename":"cohort.csv","length":-1}""", 400, "length")]
    [InlineData("""{"dataset":"omop-2026","filename":"cohort.csv","length":99999999999999999}""", 413, "SPE")]
    [InlineData("""{"dataset":"omop-2026","filename":"cohort.csv","length":"ten"}""", 400, "")]
    [InlineData("""not json""", 400, "")]
    [Trait("Requirement", "TIR-5")]
    public async Task A_refused_type_a_path_a_missing_field_an_oversized_length_or_malformed_json_gets_a_problem_and_nothing_is_stored(string body, int status, string mentions)
    {
        var (_, projectId) = await f.IssueAsync();
        using var holder = await f.Server.ClientForAccountAsync("holder");

        var response = await holder.PostAsync($"/api/v1/projects/{projectId}/uploads/admission",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        var problem = await Api.ProblemAssert.IsProblemAsync(response, (HttpStatusCode)status);
        Assert.Contains(mentions, problem.GetRawText(), StringComparison.Ordinal);
        Assert.Equal((0, 0), await f.StoredAsync(projectId));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_file_name_already_stored_in_the_dataset_is_refused_at_admission_with_what_to_do()
    {
        var (_, projectId) = await f.IssueAsync();
        using var holder = await f.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, projectId);
        var csv = UploadPageFixture.Csv(1000);
        await tus.UploadAsync(TusClient.Encrypt(csv, await tus.ProjectKeyAsync()), "omop-2026", "cohort.csv", TusClient.Sha256Hex(csv));

        var response = await holder.PostAsJsonAsync($"/api/v1/projects/{projectId}/uploads/admission", CsvUpload, TestContext.Current.CancellationToken);

        var problem = await Api.ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(ErrorCodes.DatasetFileExists, problem.GetProperty("code").GetString());
        Assert.Equal((0, 1), await f.StoredAsync(projectId));
    }

    [Theory]
    [InlineData("/upload/lib/tus/tus.min.js", true)]
    [InlineData("/upload/lib/noble-curves/abstract/montgomery.js", true)]
    [InlineData("/upload/lib/tus/LICENSE", false)]
    [InlineData("/upload/lib/tus/package.json", false)]
    [InlineData("/upload/lib/noble-curves/../../../../etc/passwd.js", false)]
    [InlineData("/upload/lib/noble-curves/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/hostname.js", false)]
    [InlineData("/upload/lib/noble-curves/..%2f..%2f..%2f..%2fetc%2fhostname.js", false)]
    [InlineData("/upload/lib/other/x.js", false)]
    [Trait("Requirement", "TIR-5")]
    public async Task The_library_route_serves_only_the_installed_scripts(string path, bool served)
    {
        if (!File.Exists("/usr/local/share/openspe/upload-js/tus/tus.min.js"))
        {
            Infrastructure.Requirements.Missing("the upload page's browser libraries are not installed (deploy/install-upload-js.sh)");
        }

        var anonymous = f.Server.Client;

        var response = await anonymous.GetAsync(path, TestContext.Current.CancellationToken);

        // A path that leaves the library folder is refused by this route (404) or, once normalized, reaches no file route at all.
        Assert.Equal(served, response.StatusCode == HttpStatusCode.OK);
        if (served)
        {
            Assert.StartsWith("text/javascript", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task The_page_is_served_under_a_strict_policy_and_escapes_the_project_it_names()
    {
        var anonymous = f.Server.Client;

        var response = await anonymous.GetAsync("/upload/%3Cscript%3Ex%3C%2Fscript%3E", TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>x", html, StringComparison.Ordinal);
        Assert.Contains("data-project=\"&lt;script&gt;x&lt;", html, StringComparison.Ordinal);
    }
}
