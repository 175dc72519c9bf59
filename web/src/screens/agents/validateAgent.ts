import type { AgentInput } from '../../api'

export const NAME_MAX = 100
export const PROMPT_MAX = 8000

/** Client-side checks mirroring the API's rules; the API's own messages win when it answers 400. */
export function validateAgent(input: AgentInput): Record<string, string[]> {
  const errors: Record<string, string[]> = {}
  const name = input.name.trim()
  if (!name) errors.name = ['Name is required.']
  else if (name.length > NAME_MAX) errors.name = [`Name must be at most ${NAME_MAX} characters.`]
  if (input.systemPrompt.length > PROMPT_MAX) errors.systemPrompt = [`System prompt must be at most ${PROMPT_MAX} characters.`]
  if (input.fallbackProvider && input.fallbackProvider === input.primaryProvider)
    errors.fallbackProvider = ['Fallback provider must differ from the primary provider.']
  return errors
}
