using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// The workspaces module: code-to-data jobs in the project's sandbox (FCR-3, SPER-1) through the workspace runtime
/// (<see cref="IWorkspaceRuntime"/>), stopped by halts, permit ends and lost access (OPR-5, OPR-20).
/// </summary>
internal static class WorkspacesModule
{
    /// <summary>The setting that chooses the sandbox runtime.</summary>
    public const string RuntimeSetting = "Workspaces:Runtime";

    /// <summary>The single-node runtime (bubblewrap and tmpfs; section <c>Workspaces</c>).</summary>
    public const string Bubblewrap = "bubblewrap";

    /// <summary>No runtime: jobs are refused with 503.</summary>
    public const string NoRuntime = "none";

    /// <summary>Registers jobs (section <c>Jobs</c>). A server without a configured runtime answers job submissions 503.</summary>
    public static IServiceCollection AddWorkspacesModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<JobOptions>(JobOptions.Section);
        // Note: the operator chooses the runtime (Workspaces:Runtime): bubblewrap on one node, or none, the default, where
        // nothing runs and submissions are answered 503, because a sandbox needs a uid range and a tmpfs the operator sets up.
        // In dev mode (`spe server --dev`) the default is bubblewrap with its files in the data directory, so the demo permit's
        // jobs run at once.
        var dev = string.Equals(host.Configuration["Server:Dev"], "true", StringComparison.OrdinalIgnoreCase);
        var runtime = host.Configuration[RuntimeSetting] ?? (dev ? Bubblewrap : NoRuntime);
        if (runtime == Bubblewrap && OperatingSystem.IsLinux())
        {
            services.AddBubblewrapWorkspaces(host.Configuration);
            if (dev)
            {
                services.PostConfigure<WorkspaceOptions>(options => DevDefaults(options, host));
            }
        }
        else if (runtime != NoRuntime)
        {
            throw new SpeConfigurationException($"{RuntimeSetting} must be '{Bubblewrap}' (Linux) or '{NoRuntime}', not '{runtime}'");
        }

        services.TryAddSingleton<IWorkspaceRuntime, UnavailableWorkspaceRuntime>();
        services.TryAddSingleton<IPlaintextStaging, UnavailablePlaintextStaging>();
        services.AddSingleton(s => new JobLogStore(host.Directory));
        services.AddSingleton<JobRecorder>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(s => s.GetRequiredService<JobScheduler>());
        services.AddSingleton<ComponentVerifier>();
        services.AddScoped<DatasetStager>();
        services.AddSingleton<JobAccessWatch>();
        services.AddHostedService(s => s.GetRequiredService<JobAccessWatch>());
        services.AddSingleton<IPermitChangeHook>(s => s.GetRequiredService<JobAccessWatch>());
        services.AddSingleton<IPermitChangeHook, PlaintextDatasetWatch>();
        services.AddSingleton<IAccountChangeHook>(s => s.GetRequiredService<JobAccessWatch>());
        services.AddSingleton<IProjectErasureHook, JobLogEraser>();
        return services;
    }

    /// <summary>Maps the job endpoints.</summary>
    public static IEndpointRouteBuilder MapWorkspacesModule(this IEndpointRouteBuilder routes) => routes.MapJobEndpoints();

    /// <summary>
    /// Dev mode's defaults, one pair per data directory: the sandboxes' files in <c>/var/tmp/openspe-dev-TAG</c>, plaintext in
    /// <c>/dev/shm/openspe-dev-TAG</c>.
    /// </summary>
    /// <remarks>
    /// Note: not under the data directory, because that is 0700 for the server alone, and bubblewrap runs as the project's
    /// uid, which must reach the directories it mounts.
    /// </remarks>
    private static void DevDefaults(WorkspaceOptions options, SpeModuleContext host)
    {
        var tag = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(host.Directory.Path)))[..12];
        if (host.Configuration["Workspaces:Root"] is null)
        {
            options.Root = "/var/tmp/openspe-dev-" + tag;
        }

        if (host.Configuration["Workspaces:PlaintextRoot"] is null)
        {
            options.PlaintextRoot = "/dev/shm/openspe-dev-" + tag;
        }
    }

    /// <summary>A project's job logs go with its erasure (they are project data).</summary>
    private sealed class JobLogEraser(JobLogStore logs) : IProjectErasureHook
    {
        public Task OnProjectErasedAsync(string projectId, CancellationToken cancellationToken)
        {
            logs.DeleteProject(projectId);
            return Task.CompletedTask;
        }
    }
}
