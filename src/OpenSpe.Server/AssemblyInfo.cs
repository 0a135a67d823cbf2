using System.Runtime.Versioning;

// The SPE relies on Linux facilities (file modes, namespaces for sandboxes); it runs nowhere else.
[assembly: SupportedOSPlatform("linux")]
