import type { AgentInput, ProviderInfo } from '../../api'

export const NAME_MAX = 100
export const PROMPT_MAX = 8000
export const MODEL_MAX = 200

/**
 * How the form asks for a provider's model:
 * - `none`: the provider has exactly one model (the simulated vendors); nothing to choose.
 * - `select`: the provider offers several models; choose one of them.
 * - `text`: the provider accepts any model name its upstream knows; type it.
 */
export type ModelChoice = 'none' | 'select' | 'text'

export function modelChoice(provider: ProviderInfo | undefined): ModelChoice {
  if (!provider) return 'none'
  if (provider.models.length === 0) return 'text'
  return provider.models.length === 1 ? 'none' : 'select'
}

/** The model a provider would be asked for: the one given, else the provider's default. */
export function effectiveModel(provider: ProviderInfo | undefined, model: string | null): string | null {
  return model ?? provider?.defaultModel ?? null
}

type Role = 'primary' | 'fallback'

function checkTarget(
  role: Role,
  providerName: string,
  model: string | null,
  providers: ProviderInfo[] | undefined,
  errors: Record<string, string[]>,
): boolean {
  const providerField = `${role}Provider`
  const modelField = `${role}Model`
  if (!providerName) {
    errors[providerField] = ['Choose a provider.']
    return false
  }
  if (model !== null) {
    if (model.length === 0 || model.length > MODEL_MAX) {
      errors[modelField] = [`Model name must be 1-${MODEL_MAX} characters.`]
      return false
    }
    // oxlint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f]/.test(model)) {
      errors[modelField] = ['Model name must not contain control characters such as tabs or line breaks.']
      return false
    }
  }
  if (!providers) return true
  const provider = providers.find((p) => p.name === providerName)
  if (!provider) {
    errors[providerField] = [`${providerName} is not available any more; choose another provider.`]
    return false
  }
  const effective = effectiveModel(provider, model)
  if (effective === null) {
    errors[modelField] = [
      provider.models.length
        ? `Choose a model: ${provider.name} has no default model.`
        : `Enter a model name: ${provider.name} has no default model.`,
    ]
    return false
  }
  if (provider.models.length > 0 && !provider.models.includes(effective)) {
    errors[modelField] = [`${provider.name} does not offer ${effective}; choose one of its models.`]
    return false
  }
  return true
}

/**
 * Client-side checks mirroring the API's rules; the API's own messages win when it answers 400.
 * With the provider catalogue, also the catalogue rules (known provider, required or offered model, distinct fallback).
 * `fallbackHasModelField` says where a "same as the primary" error belongs: on the fallback model when the form shows one.
 */
export function validateAgent(
  input: AgentInput,
  providers?: ProviderInfo[],
  options: { fallbackHasModelField?: boolean } = {},
): Record<string, string[]> {
  const errors: Record<string, string[]> = {}
  const name = input.name.trim()
  if (!name) errors.name = ['Name is required.']
  else if (name.length > NAME_MAX) errors.name = [`Name must be at most ${NAME_MAX} characters.`]

  const primaryOk = checkTarget('primary', input.primaryProvider, input.primaryModel ?? null, providers, errors)
  if (!input.fallbackProvider) {
    if (input.fallbackModel != null) errors.fallbackModel = ['Choose a fallback provider for this model, or clear the model.']
  } else if (checkTarget('fallback', input.fallbackProvider, input.fallbackModel ?? null, providers, errors) && primaryOk) {
    const find = (n: string) => providers?.find((p) => p.name === n)
    const primaryModel = effectiveModel(find(input.primaryProvider), input.primaryModel ?? null)
    const fallbackModel = effectiveModel(find(input.fallbackProvider), input.fallbackModel ?? null)
    if (input.fallbackProvider === input.primaryProvider && primaryModel === fallbackModel) {
      const onModel = options.fallbackHasModelField ?? input.fallbackModel != null
      errors[onModel ? 'fallbackModel' : 'fallbackProvider'] = [
        onModel
          ? 'The fallback must differ from the primary: choose another model or another provider.'
          : 'The fallback must differ from the primary: choose another provider.',
      ]
    }
  }

  if (input.systemPrompt.length > PROMPT_MAX) errors.systemPrompt = [`System prompt must be at most ${PROMPT_MAX} characters.`]
  return errors
}
