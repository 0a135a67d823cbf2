using System.Runtime.Versioning;

// The server (and so everything measured here) runs on Linux only.
[assembly: SupportedOSPlatform("linux")]
