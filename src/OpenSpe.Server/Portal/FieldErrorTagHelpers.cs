using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace OpenSpe.Server.Portal;

// The one way a portal page shows a refusal at the field it belongs to (WCAG 3.3.1: the error is text next to its input,
// and the input names it):
//
//   <form … spe-errors="Model.FieldErrors">                     the errors this form shows, by field
//     <input id="open-title" … spe-field="title">              aria-describedby="… open-title-error" aria-invalid="true"
//     <field-error for="open-title" field="title" />            <p id="open-title-error" class="field-error">message</p>
//
// The error's id is always the control's id + "-error". What a page writes itself stays: a help text's id in
// aria-describedby (the error's id is added after it), aria-invalid="false" (made "true" on an error), role="alert" on
// the error. Note: these types are public only because Razor finds public tag helpers alone; the pages are their only
// users (src/OpenSpe.Server/PublicSurface.cs).

/// <summary>
/// <c>&lt;form spe-errors="…"&gt;</c>: the field errors the form's <c>spe-field</c> controls and <c>&lt;field-error&gt;</c>
/// elements show (a page with several forms gives each form only its own refusal).
/// </summary>
[HtmlTargetElement("form", Attributes = Attribute)]
public sealed class FieldErrorsTagHelper : TagHelper
{
    private const string Attribute = "spe-errors";

    /// <summary>The errors by field; null for none.</summary>
    [HtmlAttributeName(Attribute)]
    public IReadOnlyDictionary<string, string>? Errors { get; set; }

    /// <summary>Hands the errors to the tags inside the form.</summary>
    public override void Init(TagHelperContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[typeof(FieldErrorsTagHelper)] = Errors ?? new Dictionary<string, string>();
    }

    /// <summary>The error of <paramref name="field"/> in the form around the tag, if any.</summary>
    internal static string? ErrorOf(TagHelperContext context, string field)
    {
        // Note: a field tag outside such a form is a page bug; it throws so that the page's tests see it, rather than
        // showing a refused form without its errors.
        if (!context.Items.TryGetValue(typeof(FieldErrorsTagHelper), out var items) || items is not IReadOnlyDictionary<string, string> errors)
        {
            throw new InvalidOperationException($"The field tag of '{field}' is not inside a <form {Attribute}=\"…\">.");
        }

        return string.IsNullOrEmpty(field) ? throw new InvalidOperationException("A field tag names no field.") : errors.GetValueOrDefault(field);
    }
}

/// <summary>
/// <c>spe-field="name"</c> on an <c>input</c>, <c>textarea</c>, <c>select</c> or <c>fieldset</c> with an id: when the
/// form's errors hold one for that field, the control's <c>aria-describedby</c> names the error (after what the page wrote)
/// and its <c>aria-invalid</c> is <c>true</c> (not on a fieldset: a group of controls has no value to be invalid). With no
/// error the control is left as written.
/// </summary>
[HtmlTargetElement("input", Attributes = Attribute, TagStructure = TagStructure.WithoutEndTag)]
[HtmlTargetElement("textarea", Attributes = Attribute)]
[HtmlTargetElement("select", Attributes = Attribute)]
[HtmlTargetElement("fieldset", Attributes = Attribute)]
public sealed class FieldTagHelper(HtmlEncoder encoder) : TagHelper
{
    private const string Attribute = "spe-field";

    /// <summary>The field's name in the form's errors.</summary>
    [HtmlAttributeName(Attribute)]
    public string Field { get; set; } = "";

    /// <summary>Adds the error to the control's ARIA attributes.</summary>
    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        if (FieldErrorsTagHelper.ErrorOf(context, Field) is null)
        {
            return;
        }

        var id = Html(output, "id") ?? throw new InvalidOperationException($"The control of field '{Field}' has no id to name its error by.");
        var errorId = id + "-error";
        var described = (Html(output, "aria-describedby") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!described.Contains(errorId, StringComparer.Ordinal))
        {
            described.Add(errorId);
        }

        // Note: both are written last, in this order, as the pages always wrote them.
        output.Attributes.RemoveAll("aria-describedby");
        output.Attributes.Add(new TagHelperAttribute("aria-describedby", new HtmlString(string.Join(' ', described))));
        if (!string.Equals(output.TagName, "fieldset", StringComparison.OrdinalIgnoreCase))
        {
            output.Attributes.RemoveAll("aria-invalid");
            output.Attributes.Add("aria-invalid", "true");
        }
    }

    /// <summary>An attribute's value as the page wrote it, already HTML-encoded; null when it is absent.</summary>
    private string? Html(TagHelperOutput output, string name)
    {
        if (!output.Attributes.TryGetAttribute(name, out var attribute))
        {
            return null;
        }

        switch (attribute.Value)
        {
            case IHtmlContent html:
                using (var writer = new StringWriter(CultureInfo.InvariantCulture))
                {
                    html.WriteTo(writer, encoder);
                    return writer.ToString();
                }

            case null:
                return "";
            default:
                return encoder.Encode(Convert.ToString(attribute.Value, CultureInfo.InvariantCulture) ?? "");
        }
    }
}

/// <summary>
/// <c>&lt;field-error field="name" for="control-id" /&gt;</c>: the error of that field as
/// <c>&lt;p id="control-id-error" class="field-error"&gt;message&lt;/p&gt;</c> (without <c>for</c>, no id), nothing when
/// the field has none; <c>always="true"</c> keeps the empty paragraph, for a control that names it whether or not there is
/// an error. Other attributes (<c>role="alert"</c>) are kept.
/// </summary>
[HtmlTargetElement("field-error")]
public sealed class FieldErrorTagHelper : TagHelper
{
    /// <summary>The field's name in the form's errors.</summary>
    [HtmlAttributeName("field")]
    public string Field { get; set; } = "";

    /// <summary>The id of the control the error belongs to.</summary>
    [HtmlAttributeName("for")]
    public string? For { get; set; }

    /// <summary>Whether to write the paragraph, empty, when the field has no error.</summary>
    [HtmlAttributeName("always")]
    public bool Always { get; set; }

    /// <summary>Writes the error's paragraph, or nothing.</summary>
    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        var error = FieldErrorsTagHelper.ErrorOf(context, Field);
        if (error is null && !Always)
        {
            output.SuppressOutput();
            return;
        }

        output.TagName = "p";
        output.TagMode = TagMode.StartTagAndEndTag;
        var at = 0;
        if (For is not null)
        {
            output.Attributes.Insert(at++, new TagHelperAttribute("id", For + "-error"));
        }

        output.Attributes.Insert(at, new TagHelperAttribute("class", "field-error"));
        output.Content.SetContent(error ?? "");
    }
}
