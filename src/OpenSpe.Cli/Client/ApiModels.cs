using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Cli.Client;

/// <summary><c>GET /api/v1/account</c>.</summary>
internal sealed record AccountView(
    string? SubjectId,
    string? Username,
    IReadOnlyList<string>? Roles,
    IReadOnlyList<string>? AuthenticationMethods,
    string? ClientId,
    bool MfaEnrolled);

/// <summary><c>POST /api/v1/account/totp</c>.</summary>
internal sealed record TotpEnrolmentView(string Secret, string OtpauthUri);

/// <summary><c>POST /api/v1/account/totp/confirm</c>.</summary>
internal sealed record RecoveryCodesView(IReadOnlyList<string> RecoveryCodes);

/// <summary>An account as administrators see it.</summary>
internal sealed record UserView(
    string Username,
    IReadOnlyList<string>? Roles,
    bool Disabled,
    bool MfaEnrolled);

/// <summary><c>POST /api/v1/admin/users</c> answer; the initial password is shown once.</summary>
internal sealed record CreatedUserView(string Username, string EnrolmentUrl, DateTimeOffset EnrolmentExpiresAt, IReadOnlyList<string>? Granted, IReadOnlyList<string>? PendingApproval);

/// <summary>A new enrolment link.</summary>
internal sealed record EnrolmentLinkView(string Username, string EnrolmentUrl, DateTimeOffset EnrolmentExpiresAt);

/// <summary>A registered application.</summary>
internal sealed record ClientView(string ClientId, string? DisplayName, string? RegisteredBy);

/// <summary>Activates an account with its enrolment token.</summary>
internal sealed record ActivateRequest(string Token, string Password);

/// <summary><c>PUT .../roles/{role}</c> answer: <c>granted</c>, or <c>pending-approval</c> until a second admin approves.</summary>
internal sealed record RoleGrantResultView(
    string Status,
    [property: JsonConverter(typeof(LenientStringConverter))] string? ApprovalId);

/// <summary>A role grant waiting for a second admin.</summary>
internal sealed record PendingRoleGrantView(
    [property: JsonConverter(typeof(LenientStringConverter))] string Id,
    string Username,
    string Role,
    string? RequestedBy,
    DateTimeOffset? RequestedAt);

/// <summary><c>POST /api/v1/admin/clients</c> answer; the secret is shown once.</summary>
internal sealed record CreatedClientView(string ClientId, string ClientSecret, string RegisteredBy);

/// <summary>Request bodies.</summary>
internal sealed record TotpConfirmRequest(string Code);

internal sealed record PasswordChangeRequest(string CurrentPassword, string NewPassword)
{
    public override string ToString() => "PasswordChangeRequest";
}

internal sealed record CreateUserRequest(string Username, IReadOnlyList<string> Roles);

internal sealed record CreateClientRequest(string ClientId, string? DisplayName);

/// <summary>Reads an id the server may send as a string or a number, so the CLI need not know which.</summary>
internal sealed class LenientStringConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => reader.TryGetInt64(out var n) ? n.ToString(CultureInfo.InvariantCulture) : reader.GetDouble().ToString(CultureInfo.InvariantCulture),
        _ => throw new JsonException($"expected a string or number, got {reader.TokenType}"),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
