using OpenSpe.Federation.Runner;

// Note: standard error is never read by the server (it could carry data from an exception message); the outcome goes to standard
// output only, one line per request.
return await RunnerLoop.RunAsync(Console.OpenStandardInput(), Console.OpenStandardOutput(), RunnerLoop.DataRoot, CancellationToken.None);
