using System.Reflection;
using System.Reflection.Emit;
using OpenSpe.Cli;
using OpenSpe.Cli.Hosting;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// The <c>spe</c> executable hosts the server (<c>spe server</c> and the offline audit tools, in <c>OpenSpe.Cli.Hosting</c>);
/// every other type in it is a client and must reach the server only over HTTP, through OpenSpe.Contracts. These tests read
/// every client type's signatures and method bodies (IL) for a reference to a type of the server assembly.
/// </summary>
public sealed class ServerTypeReferenceTests
{
    private const string HostingNamespace = "OpenSpe.Cli.Hosting";

    private static readonly Assembly Spe = typeof(ExitCodes).Assembly;
    private static readonly Assembly Server = typeof(SpeHost).Assembly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    [Fact]
    public void Client_commands_reference_no_server_type()
    {
        var clientTypes = Spe.GetTypes().Where(t => !(t.Namespace ?? "").StartsWith(HostingNamespace, StringComparison.Ordinal)).ToList();

        var references = clientTypes.SelectMany(t => ServerReferences(t).Select(r => $"{t.FullName} uses {r}")).Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.Contains(clientTypes, t => t.Namespace == "OpenSpe.Cli.Commands");
        Assert.Empty(references);
    }

    [Fact]
    public void The_check_finds_the_hosting_verbs_use_of_the_server()
    {
        // Guards the check itself: it must see a server type in a signature and in a method body (here: inside a lambda).
        var references = Spe.GetTypes().Where(t => t.Namespace == HostingNamespace).SelectMany(ServerReferences).ToList();

        Assert.Contains(references, r => r.Contains(nameof(SpeHost), StringComparison.Ordinal));
        Assert.Contains(references, r => r.Contains(nameof(OpenSpe.Server.Audit.OfflineAuditLog), StringComparison.Ordinal));
        Assert.Contains(ServerReferences(typeof(ServerCommand)), r => r.Contains(nameof(SpeStartInfo), StringComparison.Ordinal));
    }

    /// <summary>Every server type <paramref name="type"/> names in its base types, members' signatures, attributes, locals and IL.</summary>
    private static IEnumerable<string> ServerReferences(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var named = new List<Type>();
        named.AddRange([.. type.GetInterfaces(), .. type.GetCustomAttributesData().Select(a => a.AttributeType)]);
        if (type.BaseType is { } baseType)
        {
            named.Add(baseType);
        }

        named.AddRange(type.GetFields(all).Select(f => f.FieldType));
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            named.AddRange(method.GetParameters().Select(p => p.ParameterType));
            if (method is MethodInfo info)
            {
                named.Add(info.ReturnType);
            }

            named.AddRange(method.GetCustomAttributesData().Select(a => a.AttributeType));
            if (method.GetMethodBody() is { } body)
            {
                named.AddRange(body.LocalVariables.Select(l => l.LocalType));
                foreach (var member in Tokens(method, body.GetILAsByteArray() ?? []))
                {
                    if (Uses(member) is { } used)
                    {
                        yield return $"{used} in {method.Name}";
                    }
                }
            }
        }

        foreach (var t in named.Where(IsServer))
        {
            yield return t.FullName ?? t.Name;
        }
    }

    /// <summary>The members and types a method body's instructions name.</summary>
    private static IEnumerable<MemberInfo> Tokens(MethodBase method, byte[] il)
    {
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            var value = (short)il[position++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[position++]);
            }

            var opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                    yield return method.Module.ResolveMember(BitConverter.ToInt32(il, position), typeArguments, methodArguments)!;
                    position += 4;
                    break;
                case OperandType.InlineSwitch:
                    position += 4 + (4 * BitConverter.ToInt32(il, position));
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    position += 8;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    position += 2;
                    break;
                default:
                    position += 4;
                    break;
            }
        }
    }

    /// <summary>The server type a member named in IL belongs to or mentions, if any.</summary>
    private static string? Uses(MemberInfo member)
    {
        IEnumerable<Type> types = member switch
        {
            Type t => [t],
            FieldInfo f => [f.DeclaringType!, f.FieldType],
            MethodInfo m => [m.DeclaringType!, m.ReturnType, .. m.GetParameters().Select(p => p.ParameterType), .. m.IsGenericMethod ? m.GetGenericArguments() : []],
            ConstructorInfo c => [c.DeclaringType!, .. c.GetParameters().Select(p => p.ParameterType)],
            _ => [],
        };
        return types.FirstOrDefault(IsServer) is { } server ? $"{server.FullName ?? server.Name} (via {member.DeclaringType?.Name}.{member.Name})" : null;
    }

    private static bool IsServer(Type type)
    {
        if (type.HasElementType)
        {
            return IsServer(type.GetElementType()!);
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            return IsServer(type.GetGenericTypeDefinition()) || type.GetGenericArguments().Any(IsServer);
        }

        return !type.IsGenericParameter && type.Assembly == Server;
    }
}
