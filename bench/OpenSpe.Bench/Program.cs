using BenchmarkDotNet.Running;
using OpenSpe.Bench;

// `load [--rate R] [--seconds S] [--connections C] [--no-wrk] [--no-monitoring | --no-scrape]` runs the HTTP load test; `upload` the end-to-end upload benchmark; `import [--size-mib N]` one large import request; `workspaces` the sandbox, job and desktop figures;
// `terminal` the web terminal's echo round trip;
// anything else goes to BenchmarkDotNet (e.g. `--filter '*AuditAppend*'`).
if (args.Length > 0 && args[0] == "load")
{
    return await LoadTest.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "terminal")
{
    return await TerminalEchoBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "upload")
{
    return await UploadBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "import")
{
    return await ImportBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "workspaces")
{
    return await WorkspaceBenchmark.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
