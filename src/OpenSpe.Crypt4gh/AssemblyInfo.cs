// GA4GH Crypt4GH v1 for .NET: keys, headers, segments and streams.
