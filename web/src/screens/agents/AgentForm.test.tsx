import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiError, type Agent, type AgentInput, type ProviderInfo } from '../../api'
import { AgentForm } from './AgentForm'
import { validateAgent } from './validateAgent'

const CATALOGUE: ProviderInfo[] = [
  { name: 'VendorA', kind: 'simulated', inputPer1KTokens: 0.003, outputPer1KTokens: 0.006, models: ['vendor-a'], defaultModel: 'vendor-a' },
  { name: 'VendorB', kind: 'simulated', inputPer1KTokens: 0.002, outputPer1KTokens: 0.004, models: ['vendor-b'], defaultModel: 'vendor-b' },
  { name: 'Local', kind: 'openai-compatible', inputPer1KTokens: 0, outputPer1KTokens: 0, models: [], defaultModel: null },
  { name: 'Cloud', kind: 'openai-compatible', inputPer1KTokens: 0.00015, outputPer1KTokens: 0.0006, models: ['gpt-4o-mini', 'gpt-4o'], defaultModel: 'gpt-4o-mini' },
]

const loadProviders = () => Promise.resolve(CATALOGUE)

const fieldOf = (label: string) => screen.getByLabelText(label).closest('div') as HTMLElement

/** Render the form and wait until the provider catalogue has arrived. */
async function renderForm(props: Partial<Parameters<typeof AgentForm>[0]> = {}) {
  const onSubmit = props.onSubmit ?? vi.fn(async () => {})
  render(<AgentForm loadProviders={loadProviders} {...props} onSubmit={onSubmit} />)
  await screen.findByLabelText('Primary provider')
  return { onSubmit }
}

const optionsOf = (label: string) =>
  within(screen.getByLabelText(label))
    .getAllByRole('option')
    .map((o) => (o as HTMLOptionElement).value)

const agent = (over: Partial<Agent>): Agent => ({
  id: 'a1',
  name: 'Helper',
  primaryProvider: 'VendorA',
  primaryModel: null,
  fallbackProvider: null,
  fallbackModel: null,
  systemPrompt: 'Be brief.',
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
  ...over,
})

describe('AgentForm', () => {
  it("shows the API's validation messages at their fields", async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(400, {
        title: 'One or more validation errors occurred.',
        status: 400,
        errors: {
          Name: ['Name is already used by another agent.'],
          fallbackProvider: ['fallbackProvider must differ from primaryProvider.'],
          tenant: ['Quota reached.'],
        },
      })
    })
    await renderForm({ onSubmit })
    await userEvent.type(screen.getByLabelText('Name'), 'Support bot')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))

    expect(onSubmit).toHaveBeenCalledWith({
      name: 'Support bot',
      primaryProvider: 'VendorA',
      primaryModel: null,
      fallbackProvider: 'VendorB',
      fallbackModel: null,
      systemPrompt: '',
    })
    expect(within(fieldOf('Name')).getByText('Name is already used by another agent.')).toBeInTheDocument()
    expect(within(fieldOf('Fallback provider')).getByText('fallbackProvider must differ from primaryProvider.')).toBeInTheDocument()
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true')
    expect(screen.getByLabelText('Name')).toHaveAccessibleDescription('Name is already used by another agent.')
    expect(screen.getByLabelText('Name')).toHaveFocus()
    // An error for a field the form does not show goes to the top of the form.
    expect(screen.getByText('Quota reached.')).toBeInTheDocument()
  })

  it('shows problem detail when there are no field errors', async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(409, { title: 'Conflict', detail: 'The agent was changed by someone else.' })
    })
    await renderForm({ onSubmit })
    await userEvent.type(screen.getByLabelText('Name'), 'x')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(screen.getByText('The agent was changed by someone else.')).toBeInTheDocument()
  })

  it('checks required name and distinct providers before calling the API', async () => {
    const { onSubmit } = await renderForm()
    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), 'VendorA')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).not.toHaveBeenCalled()
    expect(within(fieldOf('Name')).getByText('Name is required.')).toBeInTheDocument()
    expect(within(fieldOf('Fallback provider')).getByText(/must differ/)).toBeInTheDocument()
    expect(screen.getByLabelText('Name')).toHaveFocus()
  })

  it('lists the providers from the catalogue, with a loading state first', async () => {
    let resolve: (p: ProviderInfo[]) => void = () => {}
    const load = vi.fn(() => new Promise<ProviderInfo[]>((r) => (resolve = r)))
    render(<AgentForm loadProviders={load} onSubmit={vi.fn(async () => {})} />)
    expect(screen.getByRole('status')).toHaveTextContent('Loading providers')
    expect(screen.getByRole('button', { name: 'Create agent' })).toBeDisabled()
    resolve(CATALOGUE)
    await screen.findByLabelText('Primary provider')
    expect(load).toHaveBeenCalledTimes(1)
    expect(optionsOf('Primary provider')).toEqual(['VendorA', 'VendorB', 'Local', 'Cloud'])
    expect(optionsOf('Fallback provider')).toEqual(['', 'VendorA', 'VendorB', 'Local', 'Cloud'])
    expect(screen.getByLabelText('Primary provider')).toHaveValue('VendorA')
    expect(screen.getByLabelText('Fallback provider')).toHaveValue('VendorB')
    expect(screen.getByRole('button', { name: 'Create agent' })).toBeEnabled()
  })

  it('starts a new agent on providers that need no model typed in', async () => {
    const upstreamFirst = [CATALOGUE[2], CATALOGUE[1], CATALOGUE[3], CATALOGUE[0]]
    render(<AgentForm loadProviders={() => Promise.resolve(upstreamFirst)} onSubmit={vi.fn(async () => {})} />)
    expect(await screen.findByLabelText('Primary provider')).toHaveValue('VendorB')
    expect(screen.getByLabelText('Fallback provider')).toHaveValue('Cloud')
    expect(screen.getByLabelText('Fallback model')).toHaveValue('gpt-4o-mini')
  })

  it('shows a model field only when the provider offers a choice', async () => {
    await renderForm()
    // Simulated vendors: one model, no field (the model is named in the hint).
    expect(screen.queryByLabelText('Primary model')).not.toBeInTheDocument()
    expect(screen.queryByLabelText('Fallback model')).not.toBeInTheDocument()
    expect(within(fieldOf('Primary provider')).getByText('Model: vendor-a')).toBeInTheDocument()

    // An upstream without a model list: a required text input.
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'Local')
    const typed = screen.getByLabelText('Primary model')
    expect(typed.tagName).toBe('INPUT')
    expect(typed).toHaveAttribute('placeholder', 'model name, e.g. gpt-4o-mini')
    expect(typed).toHaveAttribute('aria-required', 'true')

    // An upstream with several models: a select with the default preselected.
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'Cloud')
    const chosen = screen.getByLabelText('Primary model')
    expect(chosen.tagName).toBe('SELECT')
    expect(chosen).toHaveValue('gpt-4o-mini')
    expect(optionsOf('Primary model')).toEqual(['gpt-4o-mini', 'gpt-4o'])

    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), 'Local')
    expect(screen.getByLabelText('Fallback model').tagName).toBe('INPUT')
    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), '')
    expect(screen.queryByLabelText('Fallback model')).not.toBeInTheDocument()

    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'VendorB')
    expect(screen.queryByLabelText('Primary model')).not.toBeInTheDocument()
  })

  it('requires a model for a provider without a default, and sends the one typed', async () => {
    const { onSubmit } = await renderForm()
    await userEvent.type(screen.getByLabelText('Name'), 'Local bot')
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'Local')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).not.toHaveBeenCalled()
    const model = screen.getByLabelText('Primary model')
    expect(within(fieldOf('Primary model')).getByText('Enter a model name: Local has no default model.')).toBeInTheDocument()
    expect(model).toHaveAttribute('aria-invalid', 'true')
    expect(model).toHaveAccessibleDescription('Enter a model name: Local has no default model.')
    expect(model).toHaveFocus()

    await userEvent.type(model, '  llama3.1:8b ')
    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), '')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).toHaveBeenCalledWith({
      name: 'Local bot',
      primaryProvider: 'Local',
      primaryModel: 'llama3.1:8b',
      fallbackProvider: null,
      fallbackModel: null,
      systemPrompt: '',
    })
  })

  it('refuses a fallback with the same provider and model, but accepts another model of it', async () => {
    const { onSubmit } = await renderForm()
    await userEvent.type(screen.getByLabelText('Name'), 'Twin')
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'Local')
    await userEvent.type(screen.getByLabelText('Primary model'), 'llama3.1:8b')
    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), 'Local')
    await userEvent.type(screen.getByLabelText('Fallback model'), 'llama3.1:8b')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).not.toHaveBeenCalled()
    expect(within(fieldOf('Fallback model')).getByText(/must differ from the primary/)).toBeInTheDocument()
    expect(screen.getByLabelText('Fallback model')).toHaveFocus()

    await userEvent.clear(screen.getByLabelText('Fallback model'))
    await userEvent.type(screen.getByLabelText('Fallback model'), 'qwen2.5:7b')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).toHaveBeenCalledWith(
      expect.objectContaining({ primaryProvider: 'Local', primaryModel: 'llama3.1:8b', fallbackProvider: 'Local', fallbackModel: 'qwen2.5:7b' }),
    )
  })

  it('compares the effective model: a default and the same model named are the same', async () => {
    const { onSubmit } = await renderForm()
    await userEvent.type(screen.getByLabelText('Name'), 'Cloudy')
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'Cloud')
    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), 'Cloud')
    await userEvent.selectOptions(screen.getByLabelText('Fallback model'), 'gpt-4o-mini')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).not.toHaveBeenCalled()
    expect(within(fieldOf('Fallback model')).getByText(/must differ from the primary/)).toBeInTheDocument()

    await userEvent.selectOptions(screen.getByLabelText('Fallback model'), 'gpt-4o')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).toHaveBeenCalledWith(
      expect.objectContaining({ primaryProvider: 'Cloud', primaryModel: null, fallbackProvider: 'Cloud', fallbackModel: 'gpt-4o' }),
    )
  })

  it("keeps an edited agent's models", async () => {
    const edited = agent({ primaryProvider: 'Local', primaryModel: 'llama3.1:8b', fallbackProvider: 'Cloud', fallbackModel: 'gpt-4o' })
    const { onSubmit } = await renderForm({ agent: edited })
    expect(screen.getByLabelText('Primary provider')).toHaveValue('Local')
    expect(screen.getByLabelText('Primary model')).toHaveValue('llama3.1:8b')
    expect(screen.getByLabelText('Fallback provider')).toHaveValue('Cloud')
    expect(screen.getByLabelText('Fallback model')).toHaveValue('gpt-4o')

    // Switching away and back keeps what was typed.
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'VendorA')
    await userEvent.selectOptions(screen.getByLabelText('Primary provider'), 'Local')
    expect(screen.getByLabelText('Primary model')).toHaveValue('llama3.1:8b')

    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(onSubmit).toHaveBeenCalledWith({
      name: 'Helper',
      primaryProvider: 'Local',
      primaryModel: 'llama3.1:8b',
      fallbackProvider: 'Cloud',
      fallbackModel: 'gpt-4o',
      systemPrompt: 'Be brief.',
    })
  })

  it('keeps a simulated agent on its default model and without a fallback', async () => {
    const { onSubmit } = await renderForm({ agent: agent({ primaryProvider: 'VendorB' }) })
    expect(screen.getByLabelText('Fallback provider')).toHaveValue('')
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(onSubmit).toHaveBeenCalledWith(
      expect.objectContaining({ primaryProvider: 'VendorB', primaryModel: null, fallbackProvider: null, fallbackModel: null }),
    )
  })

  it("shows the API's model errors on the model field, or on the provider when there is none", async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(400, {
        title: 'One or more validation errors occurred.',
        errors: { primaryModel: ['primaryModel is not known upstream.'], fallbackModel: ['fallbackModel must be null.'] },
      })
    })
    await renderForm({ onSubmit, agent: agent({ primaryProvider: 'Local', primaryModel: 'nope', fallbackProvider: 'VendorA' }) })
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(within(fieldOf('Primary model')).getByText('primaryModel is not known upstream.')).toBeInTheDocument()
    expect(screen.getByLabelText('Primary model')).toHaveFocus()
    expect(within(fieldOf('Fallback provider')).getByText('fallbackModel must be null.')).toBeInTheDocument()
  })

  it('says so when the providers cannot be loaded, and retries', async () => {
    const load = vi
      .fn<() => Promise<ProviderInfo[]>>()
      .mockRejectedValueOnce(new ApiError(503, { title: 'Service Unavailable', detail: 'upstream providers:8080 refused' }))
      .mockResolvedValueOnce(CATALOGUE)
    const onSubmit = vi.fn(async () => {})
    render(<AgentForm loadProviders={load} onSubmit={onSubmit} />)
    const alert = await screen.findByText(/list of providers could not be loaded/)
    expect(alert).toBeInTheDocument()
    expect(screen.queryByText(/providers:8080/)).not.toBeInTheDocument()
    expect(screen.queryByLabelText('Primary provider')).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Create agent' })).toBeDisabled()

    await userEvent.click(screen.getByRole('button', { name: 'Retry' }))
    await screen.findByLabelText('Primary provider')
    expect(load).toHaveBeenCalledTimes(2)
    expect(screen.queryByText(/list of providers could not be loaded/)).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Create agent' })).toBeEnabled()
  })

  it('validateAgent enforces lengths', () => {
    expect(
      validateAgent({ name: 'a'.repeat(101), primaryProvider: 'VendorA', primaryModel: null, fallbackProvider: null, fallbackModel: null, systemPrompt: 'p'.repeat(8001) }),
    ).toEqual({
      name: ['Name must be at most 100 characters.'],
      systemPrompt: ['System prompt must be at most 8000 characters.'],
    })
  })

  it('validateAgent mirrors the catalogue rules', () => {
    const base: AgentInput = { name: 'x', primaryProvider: 'VendorA', primaryModel: null, fallbackProvider: null, fallbackModel: null, systemPrompt: '' }
    const v = (over: Partial<AgentInput>) => validateAgent({ ...base, ...over }, CATALOGUE)
    expect(v({})).toEqual({})
    expect(v({ primaryProvider: 'Nope' })).toEqual({ primaryProvider: ['Nope is not available any more; choose another provider.'] })
    expect(v({ primaryProvider: 'Cloud', primaryModel: 'gpt-5' })).toEqual({ primaryModel: ['Cloud does not offer gpt-5; choose one of its models.'] })
    expect(v({ primaryModel: 'vendor-b' })).toEqual({ primaryModel: ['VendorA does not offer vendor-b; choose one of its models.'] })
    expect(v({ primaryProvider: 'Local', primaryModel: 'm'.repeat(201) })).toEqual({ primaryModel: ['Model name must be 1-200 characters.'] })
    expect(v({ fallbackModel: 'vendor-b' })).toEqual({ fallbackModel: ['Choose a fallback provider for this model, or clear the model.'] })
    expect(v({ fallbackProvider: 'VendorA', fallbackModel: 'vendor-a' })).toEqual({
      fallbackModel: ['The fallback must differ from the primary: choose another model or another provider.'],
    })
    expect(v({ fallbackProvider: 'Local' })).toEqual({ fallbackModel: ['Enter a model name: Local has no default model.'] })
  })
})
