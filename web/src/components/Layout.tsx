import * as Dialog from '@radix-ui/react-dialog'
import { AudioLines, BarChart3, Bot, KeyRound, LogOut, Menu, MessageSquare, MessagesSquare, X } from 'lucide-react'
import { useState, type ReactNode } from 'react'
import { useAuth } from '../lib/auth'
import { APP_BASE, Link, useLocation } from '../lib/router'
import { cx } from './ui'

export const NAV = [
  { to: `${APP_BASE}/agents`, label: 'Agents', icon: Bot },
  { to: `${APP_BASE}/sessions`, label: 'Sessions', icon: MessagesSquare },
  { to: `${APP_BASE}/chat`, label: 'Chat', icon: MessageSquare },
  { to: `${APP_BASE}/voice`, label: 'Voice', icon: AudioLines },
  { to: `${APP_BASE}/usage`, label: 'Usage', icon: BarChart3 },
  { to: `${APP_BASE}/keys`, label: 'API keys', icon: KeyRound },
]

function NavLinks({ onNavigate }: { onNavigate?: () => void }) {
  const { pathname } = useLocation()
  return (
    <ul className="space-y-1">
      {NAV.map(({ to, label, icon: Icon }) => {
        const active = pathname === to || pathname.startsWith(`${to}/`)
        return (
          <li key={to}>
            <Link
              to={to}
              onClick={onNavigate}
              aria-current={active ? 'page' : undefined}
              className={cx(
                'flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium',
                active ? 'bg-slate-800 text-white' : 'text-slate-300 hover:bg-slate-800/60 hover:text-white',
              )}
            >
              <Icon className="size-4" aria-hidden />
              {label}
            </Link>
          </li>
        )
      })}
    </ul>
  )
}

function TenantBox() {
  const { tenant, signOut } = useAuth()
  return (
    <div className="border-t border-slate-800 pt-3">
      <p className="truncate px-3 text-xs text-slate-400">Tenant</p>
      <p className="truncate px-3 text-sm font-medium text-white" data-testid="tenant-name">
        {tenant?.name ?? '…'}
      </p>
      <button
        type="button"
        onClick={() => signOut()}
        className="mt-2 flex w-full items-center gap-2 rounded-md px-3 py-2 text-sm text-slate-300 hover:bg-slate-800 hover:text-white"
      >
        <LogOut className="size-4" aria-hidden /> Sign out
      </button>
    </div>
  )
}

const Brand = () => (
  <span className="text-base font-semibold tracking-tight text-white">
    Stitch<span className="text-indigo-400">Fin</span>
  </span>
)

export function Layout({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false)
  return (
    <div className="min-h-screen lg:flex">
      {/* Desktop sidebar */}
      <aside className="hidden w-56 shrink-0 flex-col justify-between bg-slate-900 p-3 lg:sticky lg:top-0 lg:flex lg:h-screen">
        <nav aria-label="Main">
          <div className="px-3 py-3">
            <Brand />
          </div>
          <NavLinks />
        </nav>
        <TenantBox />
      </aside>

      {/* Mobile top bar with a drawer */}
      <header className="sticky top-0 z-30 flex items-center justify-between bg-slate-900 px-4 py-2 lg:hidden">
        <Brand />
        <Dialog.Root open={open} onOpenChange={setOpen}>
          <Dialog.Trigger className="rounded-md p-2 text-slate-200 hover:bg-slate-800" aria-label="Open menu">
            <Menu className="size-5" />
          </Dialog.Trigger>
          <Dialog.Portal>
            <Dialog.Overlay className="fixed inset-0 z-40 bg-slate-900/50" />
            <Dialog.Content className="fixed inset-y-0 left-0 z-50 flex w-64 flex-col justify-between bg-slate-900 p-3">
              <Dialog.Title className="sr-only">Menu</Dialog.Title>
              <Dialog.Description className="sr-only">Navigate the dashboard</Dialog.Description>
              <nav aria-label="Main">
                <div className="flex items-center justify-between px-3 py-3">
                  <Brand />
                  <Dialog.Close className="rounded p-1 text-slate-300 hover:bg-slate-800" aria-label="Close menu">
                    <X className="size-4" />
                  </Dialog.Close>
                </div>
                <NavLinks onNavigate={() => setOpen(false)} />
              </nav>
              <TenantBox />
            </Dialog.Content>
          </Dialog.Portal>
        </Dialog.Root>
      </header>

      <main className="mx-auto w-full max-w-6xl min-w-0 flex-1 p-4 sm:p-6">{children}</main>
    </div>
  )
}
