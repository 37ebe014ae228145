FROM node:20
RUN npm install -g pnpm
WORKDIR /app
COPY package.json pnpm-lock.yaml ./
RUN pnpm install --frozen-lockfile
RUN corepack pnpm@9 install --frozen-lockfile
RUN npx -y pnpm@8 install --frozen-lockfile
