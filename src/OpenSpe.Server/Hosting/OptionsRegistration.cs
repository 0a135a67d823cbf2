using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Hosting;

/// <summary>Options bound from a configuration section, validated by their annotations when the server starts.</summary>
internal static class OptionsRegistration
{
    /// <summary>Binds <typeparamref name="T"/> to <paramref name="section"/> and validates it on start.</summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, string section)
        where T : class
    {
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>Binds and validates options read before the container exists (keys and addresses are set up from them).</summary>
    /// <exception cref="SpeConfigurationException">A value does not bind or an annotation is not met.</exception>
    public static T BindNow<T>(IConfiguration configuration, string section)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new SpeConfigurationException($"{section}: {SpeConfigurationException.FirstLine(ex.Message)}", ex);
        }

        ValidateNow(options, section);
        return options;
    }

    /// <summary>Validates options read before the container exists, as one line an operator can act on.</summary>
    /// <exception cref="SpeConfigurationException">An annotation is not met.</exception>
    public static void ValidateNow(object options, string section)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new SpeConfigurationException($"{section}: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        }
    }
}
