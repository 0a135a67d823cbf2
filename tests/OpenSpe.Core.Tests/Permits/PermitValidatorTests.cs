using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Permits;

/// <summary>
/// The permit validator as pure logic, with accounts faked in memory. Each test names the JSON
/// path and the exact sentence the HDAB gets back, and the boundaries on both sides.
/// </summary>
public sealed class PermitValidatorTests
{
    private const string Officer = "officer";

    /// <summary>The time of issue: after the valid permit's start, before its end.</summary>
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly FakeAccounts Accounts = new FakeAccounts()
        .Account("holder", "data-holder")
        .Account("holder2", "data-holder", "researcher")
        .Account("alice", "researcher")
        .Account("bob", "researcher", "output-checker")
        .Account("carol", "researcher", "data-holder")
        .Account(Officer, "hdab")
        .Account("officer-holder", "data-holder")
        .Account("admin1", "admin")
        .Account("operator1", "operator")
        .Account("auditor1", "auditor")
        .Account("hdab1", "hdab")
        .Account("nobody-roles")
        .Account("application:analysis-app", "researcher")
        .Account("alice|s", "researcher")
        .Application("analysis-app")
        .Application("account:alice");

    private static readonly PermitDocument Valid = new(
        "HDAB-2026/001",
        "Cancer registry study",
        "scientific-research",
        "EHDS Article 53(1)(e)",
        new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero),
        [new PermitDataset("registry", "Registry extract", "holder")],
        [new PermitDataUser(Account: "alice")]);

    private static readonly PermitPolicies FullPolicies = new(
        ["desktop", "terminal", "job", "notebook"],
        30,
        "both",
        new PermitFileTypes(["csv", "parquet"], ["r"], ["png", "abcdefghij"]),
        new PermitAirlockRules(2, 10, 2, 0.9, 0.1, 10),
        [new PermitComponent("pandas", "2.2.0", new string('a', 64))],
        new PermitPrivacyBudget(3.0, 1e-6));

    private static Task<Dictionary<string, string[]>> ValidateAsync(PermitDocument permit, string? officer = Officer) =>
        PermitValidator.ValidateAsync(permit, Accounts, Now, officer);

    private static async Task AssertOnlyAsync(PermitDocument permit, string path, params string[] messages)
    {
        var errors = await ValidateAsync(permit);
        Assert.Equal([path], errors.Keys);
        Assert.Equal(messages, errors[path]);
    }

    private static async Task AssertValidAsync(PermitDocument permit, string? officer = Officer) =>
        Assert.Empty(await ValidateAsync(permit, officer));

    private static PermitDocument WithPolicies(PermitPolicies policies) => Valid with { Policies = policies };

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_complete_permit_has_no_errors()
    {
        await AssertValidAsync(Valid);
        await AssertValidAsync(Valid, officer: null);
        await AssertValidAsync(WithPolicies(FullPolicies));
        await AssertValidAsync(WithPolicies(new PermitPolicies()));
    }

    [Fact]
    public async Task Null_arguments_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => PermitValidator.ValidateAsync(null!, Accounts, Now));
        await Assert.ThrowsAsync<ArgumentNullException>(() => PermitValidator.ValidateAsync(Valid, null!, Now));
    }

    // ---- top-level text fields

    [Theory]
    [InlineData("reference", 2, false)]
    [InlineData("reference", 3, true)]
    [InlineData("reference", 64, true)]
    [InlineData("reference", 65, false)]
    [InlineData("title", 2, false)]
    [InlineData("title", 3, true)]
    [InlineData("title", 300, true)]
    [InlineData("title", 301, false)]
    [InlineData("legalBasis", 2, false)]
    [InlineData("legalBasis", 3, true)]
    [InlineData("legalBasis", 300, true)]
    [InlineData("legalBasis", 301, false)]
    public async Task Text_fields_have_length_limits_on_both_sides(string field, int length, bool valid)
    {
        var value = new string('a', length);
        var permit = field switch
        {
            "reference" => Valid with { Reference = value },
            "title" => Valid with { Title = value },
            _ => Valid with { LegalBasis = value },
        };
        var max = field == "reference" ? 64 : 300;

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, field, $"{field} must be 3 to {max} characters.");
        }
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("")]
    [InlineData(null)]
    public async Task Blank_title_is_refused(string? title)
    {
        await AssertOnlyAsync(Valid with { Title = title! }, "title", "title must be 3 to 300 characters.");
    }

    [Theory]
    [InlineData("-HDAB-1")]
    [InlineData("HDAB 1")]
    [InlineData("HDAB-1?")]
    public async Task Reference_with_characters_outside_its_alphabet_is_refused(string reference)
    {
        await AssertOnlyAsync(Valid with { Reference = reference }, "reference", "reference has characters that are not allowed.");
    }

    [Theory]
    [InlineData("scientific-research")]
    [InlineData("public-health")]
    [InlineData("policy-making")]
    [InlineData("statistics")]
    [InlineData("education")]
    [InlineData("innovation")]
    [InlineData("ai-training")]
    [InlineData("personalised-healthcare")]
    public async Task Every_article_53_purpose_is_accepted(string purpose)
    {
        await AssertValidAsync(Valid with { Purpose = purpose });
    }

    [Theory]
    [InlineData("marketing")]
    [InlineData("Scientific-Research")]
    public async Task Other_purposes_are_refused(string purpose)
    {
        await AssertOnlyAsync(Valid with { Purpose = purpose }, "purpose",
            "purpose must be one of: scientific-research, public-health, policy-making, statistics, education, innovation, ai-training, personalised-healthcare.");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_permit_must_end_after_it_starts(int days)
    {
        var start = Now.AddDays(10);

        await AssertOnlyAsync(Valid with { ValidFrom = start, ValidUntil = start.AddDays(days) }, "validUntil", "validUntil must be after validFrom.");
    }

    [Fact]
    public async Task A_permit_of_one_tick_is_valid()
    {
        await AssertValidAsync(Valid with { ValidFrom = Now, ValidUntil = Now.AddTicks(1) });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-365 * 24 * 60)]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_permit_that_ends_before_it_is_issued_is_refused(int minutes)
    {
        var permit = Valid with { ValidFrom = Now.AddYears(-2), ValidUntil = Now.AddMinutes(minutes) };

        await AssertOnlyAsync(permit, "validUntil", "validUntil must be in the future: a permit cannot be issued or amended to end before now.");
    }

    [Fact]
    public async Task A_permit_that_ends_one_tick_after_issue_is_valid()
    {
        await AssertValidAsync(Valid with { ValidFrom = Now.AddYears(-2), ValidUntil = Now.AddTicks(1) });
    }

    [Fact]
    public async Task A_permit_that_ends_before_it_starts_and_before_now_gets_both_errors()
    {
        var permit = Valid with { ValidFrom = Now, ValidUntil = Now.AddDays(-1) };

        var errors = await ValidateAsync(permit);

        Assert.Equal(["validUntil"], errors.Keys);
        Assert.Equal(["validUntil must be after validFrom.", "validUntil must be in the future: a permit cannot be issued or amended to end before now."], errors["validUntil"]);
    }

    // ---- datasets

    private static PermitDataset[] Datasets(int count) =>
        Enumerable.Range(0, count).Select(i => new PermitDataset($"d{i}", $"Dataset {i}", "holder")).ToArray();

    [Theory]
    [InlineData(1, true)]
    [InlineData(100, true)]
    [InlineData(0, false)]
    [InlineData(101, false)]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_permit_names_between_1_and_100_datasets(int count, bool valid)
    {
        var permit = Valid with { Datasets = Datasets(count) };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "datasets", "A permit names between 1 and 100 datasets.");
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_permit_without_a_dataset_list_is_refused()
    {
        await AssertOnlyAsync(Valid with { Datasets = null! }, "datasets", "A permit names between 1 and 100 datasets.");
    }

    [Theory]
    [InlineData("", "id must be 1 to 64 characters.")]
    [InlineData(null, "id must be 1 to 64 characters.")]
    [InlineData("Registry", "id has characters that are not allowed.")]
    [InlineData("-registry", "id has characters that are not allowed.")]
    [InlineData("reg istry", "id has characters that are not allowed.")]
    [Trait("Requirement", "EHDSR-10")]
    public async Task Every_dataset_is_identified_by_a_well_formed_id(string? id, string message)
    {
        var permit = Valid with { Datasets = [Datasets(1)[0], new PermitDataset(id!, "Second", "holder")] };

        await AssertOnlyAsync(permit, "datasets[1].id", message);
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public async Task Dataset_ids_have_at_most_64_characters(int length, bool valid)
    {
        var permit = Valid with { Datasets = [new PermitDataset(new string('r', length), "Registry", "holder")] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "datasets[0].id", "id must be 1 to 64 characters.");
        }
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(300, true)]
    [InlineData(0, false)]
    [InlineData(301, false)]
    public async Task Dataset_titles_have_1_to_300_characters(int length, bool valid)
    {
        var permit = Valid with { Datasets = [new PermitDataset("registry", new string('t', length), "holder")] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "datasets[0].title", "title must be 1 to 300 characters.");
        }
    }

    [Theory]
    [InlineData(2000, true)]
    [InlineData(2001, false)]
    public async Task Dataset_descriptions_have_at_most_2000_characters(int length, bool valid)
    {
        var permit = Valid with { Datasets = [new PermitDataset("registry", "Registry", "holder", new string('x', length))] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "datasets[0].description", "description must be at most 2000 characters.");
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_dataset_listed_twice_is_refused_at_its_second_place()
    {
        var permit = Valid with { Datasets = [.. Datasets(2), new PermitDataset("d0", "Again", "holder")] };

        await AssertOnlyAsync(permit, "datasets[2].id", "dataset 'd0' is listed twice.");
    }

    [Fact]
    public async Task Every_error_at_one_path_is_reported()
    {
        var permit = Valid with { Datasets = [new PermitDataset("Bad", "One", "holder"), new PermitDataset("Bad", "Two", "holder")] };

        var errors = await ValidateAsync(permit);

        Assert.Equal(["datasets[0].id", "datasets[1].id"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["id has characters that are not allowed."], errors["datasets[0].id"]);
        Assert.Equal(["id has characters that are not allowed.", "dataset 'Bad' is listed twice."], errors["datasets[1].id"]);
    }

    [Theory]
    [InlineData("", "there is no account ''.")]
    [InlineData(null, "there is no account ''.")]
    [InlineData("ghost", "there is no account 'ghost'.")]
    [InlineData("alice", "'alice' is not a data holder.")]
    [InlineData("nobody-roles", "'nobody-roles' is not a data holder.")]
    [Trait("Requirement", "EHDSR-10")]
    public async Task A_dataset_holder_is_an_existing_data_holder(string? holder, string message)
    {
        var permit = Valid with { Datasets = [Datasets(1)[0], new PermitDataset("second", "Second", holder!)] };

        await AssertOnlyAsync(permit, "datasets[1].holder", message);
    }

    [Fact]
    public async Task A_holder_with_other_roles_beside_data_holder_is_accepted()
    {
        await AssertValidAsync(Valid with { Datasets = [new PermitDataset("registry", "Registry", "holder2")] });
    }

    [Fact]
    public async Task The_issuing_officer_is_never_a_holder_of_the_permit()
    {
        var permit = Valid with { Datasets = [new PermitDataset("registry", "Registry", "officer-holder")] };

        var errors = await PermitValidator.ValidateAsync(permit, Accounts, Now, officer: "officer-holder");

        Assert.Equal(["datasets[0].holder"], errors.Keys);
        Assert.Equal(["the HDAB officer issuing or amending a permit cannot be one of its data holders."], errors["datasets[0].holder"]);
        // The same account whatever the case its name is written in; another account is not the officer.
        Assert.Equal(["datasets[0].holder"], (await PermitValidator.ValidateAsync(permit, Accounts, Now, officer: "Officer-holder")).Keys);
        Assert.Empty(await PermitValidator.ValidateAsync(permit, Accounts, Now, officer: "holder"));
    }

    // ---- data users

    [Theory]
    [InlineData(1, true)]
    [InlineData(200, true)]
    [InlineData(0, false)]
    [InlineData(201, false)]
    public async Task A_permit_names_between_1_and_200_data_users(int count, bool valid)
    {
        // Unknown accounts: when the count is wrong, nothing else about the users is reported.
        var users = Enumerable.Range(0, count).Select(i => new PermitDataUser(Issuer: "https://idp.example.org/", Subject: $"s{i}")).ToArray();
        var permit = Valid with { DataUsers = users };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "dataUsers", "A permit names between 1 and 200 data users.");
        }
    }

    [Fact]
    public async Task A_permit_without_a_data_user_list_is_refused_and_nothing_else_about_users_is_checked()
    {
        await AssertOnlyAsync(Valid with { DataUsers = null! }, "dataUsers", "A permit names between 1 and 200 data users.");
        var tooMany = Enumerable.Range(0, 201).Select(i => new PermitDataUser(Account: "ghost")).ToArray();
        await AssertOnlyAsync(Valid with { DataUsers = tooMany }, "dataUsers", "A permit names between 1 and 200 data users.");
    }

    public static TheoryData<PermitDataUser> NotExactlyOne() =>
    [
        new PermitDataUser(),
        new PermitDataUser(Name: "Only a name"),
        new PermitDataUser(Account: "ghost", Application: "ghost-app"),
        new PermitDataUser(Account: "ghost", Issuer: "not a url"),
        new PermitDataUser(Account: "ghost", Subject: "s"),
        new PermitDataUser(Issuer: "not a url", Application: "ghost-app"),
        new PermitDataUser(Subject: "s", Application: "ghost-app"),
        new PermitDataUser(Account: "ghost", Issuer: "not a url", Subject: "s", Application: "ghost-app"),
    ];

    [Theory]
    [MemberData(nameof(NotExactlyOne))]
    public async Task A_data_user_names_exactly_one_principal(PermitDataUser user)
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: "alice"), user] };

        await AssertOnlyAsync(permit, "dataUsers[1]", "name exactly one of: a local account, an external identity with issuer and subject, or an application.");
    }

    [Fact]
    [Trait("Requirement", "FCR-7")]
    public async Task A_registered_application_is_a_data_user()
    {
        await AssertValidAsync(Valid with { DataUsers = [new PermitDataUser(Application: "analysis-app")] });
    }

    [Fact]
    [Trait("Requirement", "FCR-7")]
    public async Task An_unregistered_application_is_refused()
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: "alice"), new PermitDataUser(Application: "ghost-app")] };

        await AssertOnlyAsync(permit, "dataUsers[1].application", "there is no registered application 'ghost-app'.");
    }

    [Fact]
    public async Task An_unknown_account_is_refused()
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: "alice"), new PermitDataUser(Account: "ghost")] };

        await AssertOnlyAsync(permit, "dataUsers[1].account", "there is no account 'ghost'.");
    }

    [Fact]
    public async Task The_issuing_officer_is_never_a_data_user_of_the_permit()
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: "alice")] };

        var errors = await PermitValidator.ValidateAsync(permit, Accounts, Now, officer: "alice");

        Assert.Equal(["dataUsers[0].account"], errors.Keys);
        Assert.Equal(["the HDAB officer issuing or amending a permit cannot be one of its data users."], errors["dataUsers[0].account"]);
        // The same account whatever the case its name is written in.
        Assert.Equal(["dataUsers[0].account"], (await PermitValidator.ValidateAsync(permit, Accounts, Now, officer: "Alice")).Keys);
        Assert.Equal(["dataUsers[0].account"], (await PermitValidator.ValidateAsync(Valid with { DataUsers = [new PermitDataUser(Account: "ALICE")] }, Accounts, Now, officer: "alice")).Keys);
        Assert.Empty(await PermitValidator.ValidateAsync(permit, Accounts, Now, officer: "bob"));
    }

    [Theory]
    [InlineData("admin1", "admin")]
    [InlineData("operator1", "operator")]
    [InlineData("auditor1", "auditor")]
    [InlineData("hdab1", "hdab")]
    [Trait("Requirement", "SDR-2")]
    public async Task Service_and_oversight_roles_are_never_data_users(string account, string role)
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: account)] };

        await AssertOnlyAsync(permit, "dataUsers[0].account", $"'{account}' holds '{role}', which no data user may hold (separation of duties).");
    }

    [Theory]
    [InlineData("bob")]
    [InlineData("carol")]
    [InlineData("nobody-roles")]
    public async Task Accounts_whose_roles_sit_with_researcher_are_data_users(string account)
    {
        await AssertValidAsync(Valid with { DataUsers = [new PermitDataUser(Account: account)] });
    }

    [Theory]
    [InlineData("https://idp.example.org/", true)]
    [InlineData("https://idp.example.org/realms/spe", true)]
    [InlineData("http://idp.example.org/", false)]
    [InlineData("idp.example.org", false)]
    [InlineData("/relative", false)]
    [InlineData(null, false)]
    public async Task An_external_identity_is_issued_over_https(string? issuer, bool valid)
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Issuer: issuer, Subject: "subject-1")] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "dataUsers[0].issuer", "issuer must be an https URL.");
        }
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(501, false)]
    public async Task Issuers_have_at_most_500_characters(int length, bool valid)
    {
        const string prefix = "https://idp.example.org/";
        var issuer = prefix + new string('p', length - prefix.Length);
        var permit = Valid with { DataUsers = [new PermitDataUser(Issuer: issuer, Subject: "subject-1")] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "dataUsers[0].issuer", "issuer must be an https URL.");
        }
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(255, true)]
    [InlineData(0, false)]
    [InlineData(256, false)]
    public async Task External_subjects_have_1_to_255_characters(int length, bool valid)
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Issuer: "https://idp.example.org/", Subject: new string('s', length))] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "dataUsers[0].subject", "subject must be 1 to 255 characters.");
        }
    }

    [Fact]
    public async Task An_issuer_without_subject_is_refused_for_its_subject()
    {
        await AssertOnlyAsync(Valid with { DataUsers = [new PermitDataUser(Issuer: "https://idp.example.org/")] },
            "dataUsers[0].subject", "subject must be 1 to 255 characters.");
    }

    [Fact]
    public async Task A_subject_without_issuer_is_refused_for_its_issuer()
    {
        await AssertOnlyAsync(Valid with { DataUsers = [new PermitDataUser(Subject: "subject-1")] },
            "dataUsers[0].issuer", "issuer must be an https URL.");
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(201, false)]
    public async Task Data_user_names_have_at_most_200_characters(int length, bool valid)
    {
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: "alice", Name: new string('n', length))] };

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "dataUsers[0].name", "name must be at most 200 characters.");
        }
    }

    public static TheoryData<PermitDataUser, PermitDataUser> Twice() => new()
    {
        { new PermitDataUser(Account: "alice"), new PermitDataUser(Account: "alice", Name: "Alice") },
        // One account, whatever the case its name is written in: people are compared by account id, never by the name as typed.
        { new PermitDataUser(Account: "alice"), new PermitDataUser(Account: "ALICE") },
        { new PermitDataUser(Account: "Alice"), new PermitDataUser(Account: "alice") },
        { new PermitDataUser(Application: "analysis-app"), new PermitDataUser(Application: "analysis-app") },
        { new PermitDataUser(Issuer: "https://idp.example.org/", Subject: "s"), new PermitDataUser(Issuer: "https://idp.example.org/", Subject: "s") },
    };

    [Theory]
    [MemberData(nameof(Twice))]
    public async Task A_data_user_listed_twice_is_refused_at_its_second_place(PermitDataUser first, PermitDataUser second)
    {
        var permit = Valid with { DataUsers = [first, new PermitDataUser(Account: "bob"), second] };

        await AssertOnlyAsync(permit, "dataUsers[2]", "this data user is listed twice.");
    }

    public static TheoryData<PermitDataUser, PermitDataUser> Distinct() => new()
    {
        // An application whose client id looks like an account's key is still another principal.
        { new PermitDataUser(Account: "alice"), new PermitDataUser(Application: "account:alice") },
        // Issuer and subject are separate: moving a character across the border makes another identity.
        { new PermitDataUser(Issuer: "https://idp.example.org/a", Subject: "bc"), new PermitDataUser(Issuer: "https://idp.example.org/ab", Subject: "c") },
        { new PermitDataUser(Issuer: "https://idp.example.org/", Subject: "s"), new PermitDataUser(Issuer: "https://other.example.org/", Subject: "s") },
        { new PermitDataUser(Account: "alice"), new PermitDataUser(Account: "bob") },
    };

    [Theory]
    [MemberData(nameof(Distinct))]
    public async Task Different_principals_are_not_duplicates(PermitDataUser first, PermitDataUser second)
    {
        await AssertValidAsync(Valid with { DataUsers = [first, second] });
    }

    // ---- policies

    [Fact]
    public async Task Unknown_workspace_kinds_are_refused_at_their_index()
    {
        await AssertOnlyAsync(WithPolicies(new PermitPolicies(WorkspaceKinds: ["job", "vm"])), "policies.workspaceKinds[1]",
            "workspace kind must be one of: desktop, terminal, job, notebook.");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(480, true)]
    [InlineData(0, false)]
    [InlineData(481, false)]
    public async Task Idle_timeout_is_1_to_480_minutes(int minutes, bool valid)
    {
        var permit = WithPolicies(new PermitPolicies(IdleTimeoutMinutes: minutes));

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "policies.idleTimeoutMinutes", "idleTimeoutMinutes must be between 1 and 480.");
        }
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("in", true)]
    [InlineData("out", true)]
    [InlineData("both", true)]
    [InlineData("all", false)]
    [InlineData("", false)]
    public async Task Clipboard_is_none_in_out_or_both(string clipboard, bool valid)
    {
        var permit = WithPolicies(new PermitPolicies(Clipboard: clipboard));

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "policies.clipboard", "clipboard must be none, in, out or both.");
        }
    }

    [Theory]
    [InlineData(".csv")]
    [InlineData("CSV")]
    [InlineData("abcdefghijk")]
    [InlineData("")]
    [InlineData(null)]
    public async Task File_types_are_short_lower_case_extensions_in_every_direction(string? extension)
    {
        const string message = "file types are lower-case extensions without a dot, e.g. csv.";
        await AssertOnlyAsync(WithPolicies(new PermitPolicies(FileTypes: new PermitFileTypes(Upload: ["csv", extension!]))), "policies.fileTypes.upload[1]", message);
        await AssertOnlyAsync(WithPolicies(new PermitPolicies(FileTypes: new PermitFileTypes(Import: [extension!]))), "policies.fileTypes.import[0]", message);
        await AssertOnlyAsync(WithPolicies(new PermitPolicies(FileTypes: new PermitFileTypes(Export: ["txt", "csv", extension!]))), "policies.fileTypes.export[2]", message);
    }

    public static TheoryData<PermitAirlockRules, string, string> AirlockOutOfRange() => new()
    {
        { new PermitAirlockRules(ReviewersRequired: 0), "reviewersRequired", "reviewersRequired must be between 1 and 5." },
        { new PermitAirlockRules(ReviewersRequired: 6), "reviewersRequired", "reviewersRequired must be between 1 and 5." },
        { new PermitAirlockRules(Threshold: 0), "threshold", "threshold must be between 1 and 1000." },
        { new PermitAirlockRules(Threshold: 1001), "threshold", "threshold must be between 1 and 1000." },
        { new PermitAirlockRules(DominanceN: 0), "dominanceN", "dominanceN must be between 1 and 10." },
        { new PermitAirlockRules(DominanceN: 11), "dominanceN", "dominanceN must be between 1 and 10." },
        { new PermitAirlockRules(DominanceK: 0.49), "dominanceK", "dominanceK must be between 0.5 and 1." },
        { new PermitAirlockRules(DominanceK: 1.01), "dominanceK", "dominanceK must be between 0.5 and 1." },
        { new PermitAirlockRules(DominanceK: double.NaN), "dominanceK", "dominanceK must be between 0.5 and 1." },
        { new PermitAirlockRules(PPercent: -0.01), "pPercent", "pPercent must be between 0 and 1." },
        { new PermitAirlockRules(PPercent: 1.01), "pPercent", "pPercent must be between 0 and 1." },
        { new PermitAirlockRules(KAnonymity: 1), "kAnonymity", "kAnonymity must be between 2 and 1000." },
        { new PermitAirlockRules(KAnonymity: 1001), "kAnonymity", "kAnonymity must be between 2 and 1000." },
        { new PermitAirlockRules(LDiversity: 0), "lDiversity", "lDiversity must be between 1 and 100." },
        { new PermitAirlockRules(LDiversity: 101), "lDiversity", "lDiversity must be between 1 and 100." },
        { new PermitAirlockRules(MinResidualDf: 0), "minResidualDf", "minResidualDf must be between 1 and 1000." },
        { new PermitAirlockRules(MinResidualDf: 1001), "minResidualDf", "minResidualDf must be between 1 and 1000." },
    };

    [Theory]
    [MemberData(nameof(AirlockOutOfRange))]
    public async Task Airlock_rules_out_of_range_are_refused(PermitAirlockRules rules, string field, string message)
    {
        await AssertOnlyAsync(WithPolicies(new PermitPolicies(Airlock: rules)), "policies.airlock." + field, message);
    }

    [Fact]
    public async Task Airlock_rules_at_their_bounds_are_accepted()
    {
        await AssertValidAsync(WithPolicies(new PermitPolicies(Airlock: new PermitAirlockRules(1, 1, 1, 0.5, 0.0, 2, 1, true, 1))));
        await AssertValidAsync(WithPolicies(new PermitPolicies(Airlock: new PermitAirlockRules(5, 1000, 10, 1.0, 1.0, 1000, 100, false, 1000))));
    }

    public static TheoryData<PermitComponent, string, string> BadComponents() => new()
    {
        { new PermitComponent("", "1.0", new string('a', 64)), "name", "name must be 1 to 100 characters." },
        { new PermitComponent(new string('n', 101), "1.0", new string('a', 64)), "name", "name must be 1 to 100 characters." },
        { new PermitComponent("pandas", "", new string('a', 64)), "version", "version must be 1 to 50 characters." },
        { new PermitComponent("pandas", new string('1', 51), new string('a', 64)), "version", "version must be 1 to 50 characters." },
        { new PermitComponent("pandas", "1.0", null!), "sha256", "sha256 must be 64 lower-case hex digits." },
        { new PermitComponent("pandas", "1.0", new string('A', 64)), "sha256", "sha256 must be 64 lower-case hex digits." },
        { new PermitComponent("pandas", "1.0", new string('a', 63)), "sha256", "sha256 must be 64 lower-case hex digits." },
    };

    [Theory]
    [MemberData(nameof(BadComponents))]
    [Trait("Requirement", "FCR-4")]
    public async Task Approved_components_are_named_versioned_and_hashed(PermitComponent component, string field, string message)
    {
        var permit = WithPolicies(new PermitPolicies(ApprovedComponents: [new PermitComponent("numpy", "2.0", new string('0', 64)), component]));

        await AssertOnlyAsync(permit, $"policies.approvedComponents[1].{field}", message);
    }

    [Fact]
    public async Task Approved_components_at_their_length_limits_are_accepted()
    {
        await AssertValidAsync(WithPolicies(new PermitPolicies(ApprovedComponents: [new PermitComponent(new string('n', 100), new string('1', 50), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")])));
        await AssertValidAsync(WithPolicies(new PermitPolicies(ApprovedComponents: [new PermitComponent("n", "1", new string('f', 64))])));
    }

    [Theory]
    [InlineData(1e-9, true)]
    [InlineData(100.0, true)]
    [InlineData(0.0, false)]
    [InlineData(-1.0, false)]
    [InlineData(100.01, false)]
    [InlineData(double.NaN, false)]
    public async Task Epsilon_is_greater_than_0_and_at_most_100(double epsilon, bool valid)
    {
        var permit = WithPolicies(new PermitPolicies(PrivacyBudget: new PermitPrivacyBudget(epsilon, 1e-6)));

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "policies.privacyBudget.epsilon", "epsilon must be greater than 0 and at most 100.");
        }
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(1e-3, true)]
    [InlineData(-1e-9, false)]
    [InlineData(0.0011, false)]
    [InlineData(double.NaN, false)]
    public async Task Delta_is_between_0_and_one_thousandth(double delta, bool valid)
    {
        var permit = WithPolicies(new PermitPolicies(PrivacyBudget: new PermitPrivacyBudget(3.0, delta)));

        if (valid)
        {
            await AssertValidAsync(permit);
        }
        else
        {
            await AssertOnlyAsync(permit, "policies.privacyBudget.delta", "delta must be between 0 and 0.001.");
        }
    }

    [Fact]
    public async Task Errors_in_different_places_are_all_reported()
    {
        var permit = new PermitDocument("x", "t", "marketing", "l", Valid.ValidUntil, Valid.ValidFrom, [], [],
            new PermitPolicies(IdleTimeoutMinutes: 0, Clipboard: "all"));

        var errors = await ValidateAsync(permit);

        Assert.Equal(
            ["dataUsers", "datasets", "legalBasis", "policies.clipboard", "policies.idleTimeoutMinutes", "purpose", "reference", "title", "validUntil"],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    // ---- the duplicate key of a data user: each kind has its own key space

    [Fact]
    [Trait("Requirement", "EHDSR-10")]
    public async Task An_account_is_never_taken_for_the_application_its_name_spells()
    {
        // Without the "account:" prefix the account's key would be "application:analysis-app", the application's key.
        var permit = Valid with { DataUsers = [new PermitDataUser(Application: "analysis-app"), new PermitDataUser(Account: "application:analysis-app")] };

        await AssertValidAsync(permit);
    }

    [Fact]
    public async Task An_external_identity_is_never_taken_for_the_account_its_issuer_and_subject_spell()
    {
        // Without the "external:" prefix this identity's key would be "account:alice|s", the key of account "alice|s"; only the
        // issuer's own error may be reported, never a duplicate.
        var permit = Valid with { DataUsers = [new PermitDataUser(Account: "alice|s"), new PermitDataUser(Issuer: "account:alice", Subject: "s")] };

        await AssertOnlyAsync(permit, "dataUsers[1].issuer", "issuer must be an https URL.");
    }
}
