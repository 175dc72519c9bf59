import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../api'
import { AgentForm } from './AgentForm'
import { validateAgent } from './validateAgent'

const fieldOf = (label: string) => screen.getByLabelText(label).closest('div') as HTMLElement

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
    render(<AgentForm onSubmit={onSubmit} />)
    await userEvent.type(screen.getByLabelText('Name'), 'Support bot')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))

    expect(onSubmit).toHaveBeenCalledWith({ name: 'Support bot', primaryProvider: 'VendorA', fallbackProvider: 'VendorB', systemPrompt: '' })
    expect(within(fieldOf('Name')).getByText('Name is already used by another agent.')).toBeInTheDocument()
    expect(within(fieldOf('Fallback provider')).getByText('fallbackProvider must differ from primaryProvider.')).toBeInTheDocument()
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true')
    // An error for a field the form does not show goes to the top of the form.
    expect(screen.getByText('Quota reached.')).toBeInTheDocument()
  })

  it('shows problem detail when there are no field errors', async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(409, { title: 'Conflict', detail: 'The agent was changed by someone else.' })
    })
    render(<AgentForm onSubmit={onSubmit} />)
    await userEvent.type(screen.getByLabelText('Name'), 'x')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(screen.getByText('The agent was changed by someone else.')).toBeInTheDocument()
  })

  it('checks required name and distinct providers before calling the API', async () => {
    const onSubmit = vi.fn(async () => {})
    render(<AgentForm onSubmit={onSubmit} />)
    await userEvent.selectOptions(screen.getByLabelText('Fallback provider'), 'VendorA')
    await userEvent.click(screen.getByRole('button', { name: 'Create agent' }))
    expect(onSubmit).not.toHaveBeenCalled()
    expect(within(fieldOf('Name')).getByText('Name is required.')).toBeInTheDocument()
    expect(within(fieldOf('Fallback provider')).getByText(/must differ/)).toBeInTheDocument()
  })

  it('validateAgent enforces lengths', () => {
    expect(validateAgent({ name: 'a'.repeat(101), primaryProvider: 'VendorA', fallbackProvider: null, systemPrompt: 'p'.repeat(8001) })).toEqual({
      name: ['Name must be at most 100 characters.'],
      systemPrompt: ['System prompt must be at most 8000 characters.'],
    })
  })
})
