using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Permits;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Hosting.Demo;

/// <summary>
/// <c>spe server --dev</c> shows the main job at once: a demo permit (HDAB <c>hdab</c>, holder <c>holder</c>, data users
/// <c>researcher</c> and <c>researcher2</c>) whose dataset <c>cnsim1</c> holds DataSHIELD's simulated CNSIM1 cohort.
/// Issued once, on the first dev start, through the same permit service the API uses (validated, audited as
/// <c>hdab</c>), and the file stored through the upload completion every tus upload ends in: encrypted with Crypt4GH for
/// the project's key, then decrypted, checked against its SHA-256 and file type, stored and audited as <c>holder</c>.
/// </summary>
/// <remarks>Note: only HTTP and tus framing are skipped, because the server is not listening yet when start-up work runs.</remarks>
internal sealed partial class DevDemo(ILogger<DevDemo> logger) : IModuleStart
{
    /// <summary>The demo permit's reference (its marker: a data directory that has it is not seeded again).</summary>
    public const string Reference = "DEMO-CNSIM1";

    /// <summary>The demo dataset's id in the permit.</summary>
    public const string DatasetId = "cnsim1";

    /// <summary>The file name the dataset file is stored under.</summary>
    public const string Filename = "CNSIM1.csv";

    /// <inheritdoc />
    public int Order => ModuleStartOrder.Demo;

    /// <inheritdoc />
    public async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var provider = scope.ServiceProvider;
        var database = provider.GetRequiredService<SpeDbContext>();
        if (await database.Permits.AnyAsync(p => p.Reference == Reference, cancellationToken))
        {
            return;
        }

        var users = provider.GetRequiredService<UserManager<SpeUser>>();
        var hdab = await PrincipalAsync(users, "hdab");
        var holder = await PrincipalAsync(users, "holder");
        var time = provider.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow();
        var result = await provider.GetRequiredService<PermitService>().CreateAsync(Permit(now), hdab, TraceId(), cancellationToken);
        var permit = result.Permit ?? throw new InvalidOperationException($"the demo permit was refused: {result.Failure?.Detail}");

        var completion = await UploadAsync(provider, permit.ProjectId, holder, now, cancellationToken);
        if (completion.File is null)
        {
            throw new InvalidOperationException($"the demo dataset failed verification: {completion.Result.Failure}");
        }

        LogSeeded(logger, Reference, permit.ProjectId, DatasetId, Filename);
    }

    /// <summary>The demo permit: a year from now, every workspace kind, default (most restrictive) policies otherwise.</summary>
    internal static PermitDocument Permit(DateTimeOffset now) => new(
        Reference,
        "Demo: cardiometabolic risk factors in a simulated cohort",
        "scientific-research",
        "EHDS Article 53(1)(e)",
        now.AddMinutes(-1),
        now.AddDays(365),
        [new PermitDataset(DatasetId, "CNSIM1 simulated cohort", "holder", "DataSHIELD's simulated CNSIM1 cohort: 2,163 synthetic persons, 11 variables (lipids, glucose, BMI, diabetes, CVA, AMI, gender).")],
        [new PermitDataUser(Account: "researcher"), new PermitDataUser(Account: "researcher2")],
        new PermitPolicies(
            WorkspaceKinds: ["desktop", "terminal", "job", "notebook"],
            FileTypes: new PermitFileTypes(Upload: ["csv"], Import: ["py", "r", "csv", "txt"], Export: ["csv", "txt", "png", "pdf"])));

    private static async Task<UploadCompletion> UploadAsync(IServiceProvider provider, string projectId, ClaimsPrincipal holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var plaintext = Dataset();
        var recipient = await provider.GetRequiredService<IProjectKeyStore>().GetPublicKeyAsync(projectId, cancellationToken);
        var staging = provider.GetRequiredService<UploadStaging>();
        var upload = new UploadEntity
        {
            Id = "up-" + RandomNumberGenerator.GetHexString(24, lowercase: true),
            ProjectId = projectId,
            DatasetId = DatasetId,
            Filename = Filename,
            PlaintextSha256 = Convert.ToHexStringLower(SHA256.HashData(plaintext)),
            CreatedBy = holder.FindFirst("sub")!.Value,
            CreatedAt = now,
            ExpiresAt = now.AddDays(1),
        };
        staging.Create(upload.Id);
        await using (var output = new FileStream(staging.PathOf(upload.Id), FileMode.Truncate, FileAccess.Write))
        {
            await Crypt4ghFile.EncryptAsync(new MemoryStream(plaintext), output, [recipient], cancellationToken: cancellationToken);
            upload.Length = upload.Offset = output.Length;
        }

        var database = provider.GetRequiredService<SpeDbContext>();
        database.Uploads.Add(upload);
        await database.SaveChangesAsync(cancellationToken);
        return await provider.GetRequiredService<UploadService>().CompleteAsync(upload, holder, TraceId(), cancellationToken);
    }

    /// <summary>The demo CSV, embedded in the server (a user's clone has no shared data folder).</summary>
    internal static byte[] Dataset()
    {
        using var stream = typeof(DevDemo).Assembly.GetManifestResourceStream("OpenSpe.Server.Demo.CNSIM1.csv")
            ?? throw new InvalidOperationException("the demo dataset is not embedded in the server");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static async Task<ClaimsPrincipal> PrincipalAsync(UserManager<SpeUser> users, string username)
    {
        var user = await users.FindByNameAsync(username) ?? throw new InvalidOperationException($"dev account {username} is missing");
        var claims = new List<Claim> { new("sub", user.Id), new("preferred_username", username) };
        claims.AddRange((await users.GetRolesAsync(user)).Select(r => new Claim("role", r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "dev-demo", "preferred_username", "role"));
    }

    private static string TraceId() => ActivityTraceId.CreateRandom().ToHexString();

    [LoggerMessage(EventId = 10100, Level = LogLevel.Information,
        Message = "SPE10100 dev demo: permit {Reference} issued for project {ProjectId}; dataset {DatasetId} holds {Filename} (sign in as researcher)")]
    private static partial void LogSeeded(ILogger logger, string reference, string projectId, string datasetId, string filename);
}
