using System.Runtime.Versioning;

// The server the CLI hosts relies on Linux facilities.
[assembly: SupportedOSPlatform("linux")]
