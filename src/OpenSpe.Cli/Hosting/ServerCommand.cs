using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenSpe.Cli.Output;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Cli.Hosting;

/// <summary><c>spe server</c>: runs the SPE.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var dev = new Option<bool>("--dev") { Description = "Embedded default: SQLite and a self-signed certificate in the data directory, seeded dev accounts." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory (default ./.spe), created with mode 0700." };
        var urls = new Option<string?>("--urls") { Description = "HTTPS listen URLs separated by ';' (default https://127.0.0.1:8443). Plain http:// is refused." };
        var config = new Option<FileInfo?>("--config") { Description = "JSON configuration file (production). Environment variables SPE__Section__Key override it." };
        var database = CommonOptions.Database();
        var command = new Command("server", "Run the SPE server (HTTPS only).") { dev, dataDir, urls, config, database };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = BuildConfiguration(parse.GetValue(config), parse.GetValue(dev), parse.GetValue(dataDir), parse.GetValue(urls), parse.GetValue(database));
            try
            {
                await using var app = SpeHost.Build(configuration);
                var info = await SpeHost.StartAsync(app, cancellationToken);
                PrintBanner(Console.Out, info, parse.GetValue(dev));
                await app.WaitForShutdownAsync(cancellationToken);
                return ExitCodes.Success;
            }
            catch (SpeConfigurationException ex)
            {
                await Console.Error.WriteLineAsync($"spe server: {ex.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    internal static IConfiguration BuildConfiguration(FileInfo? file, bool dev, string? dataDir, string? urls, string? database)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting"] = "Warning",
            // OpenIddict narrates every token request at Information; the audit log already records each one.
            ["Logging:LogLevel:OpenIddict"] = "Warning",
            // The data-protection key ring sits in the 0700 data directory; its "unencrypted at rest" notice is expected.
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        });
        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new SpeConfigurationException($"configuration file {file.FullName} does not exist");
            }

            builder.AddJsonFile(file.FullName, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables("SPE__");
        var overrides = new Dictionary<string, string?>();
        if (dev)
        {
            overrides["Server:Dev"] = "true";
        }

        if (dataDir is not null)
        {
            overrides["Server:DataDirectory"] = dataDir;
        }

        if (urls is not null)
        {
            overrides["Server:Urls"] = urls;
        }

        if (database is not null)
        {
            overrides["Database:ConnectionString"] = database;
        }

        return builder.AddInMemoryCollection(overrides).Build();
    }

    private static void PrintBanner(TextWriter output, SpeStartInfo info, bool dev)
    {
        output.WriteLine(dev ? "OpenSPE server (dev mode: embedded defaults, not for real data)" : "OpenSPE server");
        TableWriter.WriteFields(output,
        [
            ("URL", string.Join(" ", info.Urls)),
            ("TLS SHA-256", info.CertificateFingerprint),
            ("Data directory", info.DataDirectory),
            ("Database", info.Database),
            ("Dev accounts", info.DevAccountsPath),
        ]);
        if (info.DevAccounts.Count > 0)
        {
            output.WriteLine();
            TableWriter.Write(output, ["USERNAME", "PASSWORD", "TOTP SECRET", "ROLES"],
                info.DevAccounts.Select(a => (IReadOnlyList<string?>)[a.Username, a.Password, a.TotpSecret, string.Join(",", a.Roles)]), "No dev accounts.");
        }

        output.WriteLine();
        output.WriteLine($"Serving on {string.Join(" ", info.Urls)}. Press Ctrl+C to stop.");
        output.Flush();
    }
}
